"""Pre-trade risk rules and the daily-loss kill switch: pure functions returning decisions."""
