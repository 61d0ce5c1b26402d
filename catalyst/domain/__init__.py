"""Catalyst's own vocabulary: frozen dataclasses and errors shared by every layer."""
