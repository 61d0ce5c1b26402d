"""Where the event loop stalls: a thread that samples the loop thread's stack while it is stuck.

`StallSites.beat()` is called by the loop each time it gets to run (bench/cycle_probe.py's
monitor). A daemon thread wakes every `SAMPLE_SECONDS`; when the last beat is older than
`STUCK_SECONDS`, it reads the loop thread's current frame and charges one sample to the
synchronous call holding the loop: the innermost coroutine on the stack and the function it
called (`tasks/scan_cycle._scan → pipeline/universe.screen_snapshots`). The first
`STUCK_SECONDS` of each stall are charged to nobody. A garbage collection holds the interpreter,
so the sampler cannot run during one: the collector's pauses show in the GC figures instead.
"""

from __future__ import annotations

import inspect
import sys
import threading
import time
from collections import Counter
from types import FrameType

IDLE_IN_SELECT = "the loop idle in select (GIL held by a worker thread, or no CPU)"
# Where an idle worker thread waits: not what holds the interpreter.
_PARKED = frozenset(
    {"wait", "_wait_for_tstate_lock", "get", "select", "_worker", "sleep", "poll", "readinto"}
)
SAMPLE_SECONDS = 0.005
STUCK_SECONDS = 0.020  # the monitor beats every 10 ms when the loop is free


class StallSites:
    """Samples of the loop thread's stack taken while the loop is stuck, per code site."""

    def __init__(self) -> None:
        self._loop_thread = threading.get_ident()  # built on the loop's thread
        self._last_beat = time.monotonic()
        self._samples: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._sample, name="stall-sites", daemon=True)
        self._thread.start()

    def beat(self) -> None:
        """The loop ran just now."""
        self._last_beat = time.monotonic()

    def take(self, top: int = 6) -> list[tuple[str, float]]:
        """The `top` sites and the milliseconds of stall charged to each since the last call."""
        with self._lock:
            samples, self._samples = self._samples, Counter()
        return [(site, n * SAMPLE_SECONDS * 1000) for site, n in samples.most_common(top)]

    def _sample(self) -> None:
        while True:
            time.sleep(SAMPLE_SECONDS)
            if time.monotonic() - self._last_beat < STUCK_SECONDS:
                continue
            frames = sys._current_frames()
            frame = frames.get(self._loop_thread)
            if frame is not None:
                site = _site(frame)
                if site == IDLE_IN_SELECT:
                    site += _busy_workers(frames, {self._loop_thread, threading.get_ident()})
                with self._lock:
                    self._samples[site] += 1


def _site(frame: FrameType) -> str:
    """The synchronous call that holds the loop: `coroutine → the function it called`."""
    callee: FrameType | None = None
    current: FrameType | None = frame
    while current is not None:
        if current.f_code.co_flags & inspect.CO_COROUTINE:
            below = "" if callee is None else f" → {_name(callee)}"
            return f"{_name(current)}{below}"
        callee, current = current, current.f_back
    if frame.f_code.co_name == "select":
        return IDLE_IN_SELECT
    return _name(frame)


def _busy_workers(frames: dict[int, FrameType], exclude: set[int]) -> str:
    """What the other threads run while the loop waits for the interpreter: for each one not
    parked in a wait, its innermost frame and the innermost Catalyst frame above it."""
    busy = []
    for ident, frame in frames.items():
        if ident in exclude or frame.f_code.co_name in _PARKED:
            continue
        ours = frame
        while ours is not None and "/catalyst/" not in ours.f_code.co_filename:
            ours = ours.f_back
        where = _name(frame) if ours is None or ours is frame else f"{_name(ours)} … {_name(frame)}"
        busy.append(where)
    return ": " + "; ".join(sorted(busy)) if busy else ""


def _name(frame: FrameType) -> str:
    path = frame.f_code.co_filename
    where = path.split("/catalyst/", 1)[1] if "/catalyst/" in path else path.rsplit("/", 1)[-1]
    return f"{where.removesuffix('.py')}.{frame.f_code.co_name}"
