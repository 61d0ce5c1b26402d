"""Typed, frozen configuration: `models` defines it, `loader` reads (`yaml_reader`) and validates it
(`cross_checks` for rules spanning keys); `database_url` holds the accepted database URLs."""
