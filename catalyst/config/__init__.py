"""Typed, frozen configuration: `models` defines it; `loader` reads it (`yaml_reader`), validates
it (`validation`, `cross_checks`) and describes it; `database_url` holds the accepted databases."""
