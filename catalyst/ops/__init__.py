"""The operations edge: systemd integration (`sdnotify`) and the operator's pause switch."""
