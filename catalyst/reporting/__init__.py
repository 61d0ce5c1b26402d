"""Read-only views of what the daemon did: P&L arithmetic, status and the day summary."""
