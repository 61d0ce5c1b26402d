"""The daemon shell: composition root, supervisor, scheduling and long-running tasks."""
