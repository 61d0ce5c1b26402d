"""Typed, frozen configuration: `models` defines it, `loader` reads and validates it."""
