"""Peak resident set size of a process, as the kernel records it (VmHWM in /proc/PID/status).

In MB of 10^6 bytes, the unit of the issue's targets (VmHWM itself is in KiB).
"""

from __future__ import annotations

import resource
from pathlib import Path


def peak_rss_mb(pid: int | str = "self") -> float:
    """The peak RSS of process `pid` in MB; getrusage's ru_maxrss where /proc is absent."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        if pid != "self":
            raise
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e6  # reported in KiB
    raise RuntimeError(f"no VmHWM in /proc/{pid}/status")
