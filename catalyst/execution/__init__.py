"""Placing orders safely and keeping the journal in step with the broker."""
