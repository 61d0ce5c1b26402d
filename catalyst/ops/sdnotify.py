"""A small, dependency-free client for systemd's notification protocol (sd_notify(3)).

The daemon tells systemd when it is ready, reloading or stopping, what it is doing (STATUS) and
that it is alive (WATCHDOG). Every message is one datagram of `KEY=value` lines sent over the
AF_UNIX socket named by NOTIFY_SOCKET. Without NOTIFY_SOCKET (tests, a terminal, the embedded
demo) every call is a no-op, so callers never branch on "are we under systemd".
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Callable, Mapping

import structlog

__all__ = ["SystemdNotifier", "watchdog_interval"]

_KEY = re.compile(r"[A-Z][A-Z0-9_]*")


def _monotonic_usec() -> int:
    """CLOCK_MONOTONIC in microseconds: what systemd compares MONOTONIC_USEC against."""
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


def _socket_address(notify_socket: str) -> str | None:
    # '@name' is an abstract-namespace socket; Python spells that with a leading NUL.
    if notify_socket.startswith("@") and len(notify_socket) > 1:
        return "\0" + notify_socket[1:]
    if notify_socket.startswith("/"):
        return notify_socket
    return None  # relative paths and vsock addresses are not supported: stay a no-op


class SystemdNotifier:
    """Sends sd_notify datagrams; a no-op when constructed without a socket address.

    Send failures are never raised into the daemon: the first one is logged at warning, later
    ones at debug, because a watchdog ping every few seconds would otherwise flood the journal.
    """

    def __init__(
        self,
        address: str | None,
        *,
        monotonic_usec: Callable[[], int] = _monotonic_usec,
    ) -> None:
        """`address` is a filesystem path or an abstract name with a leading NUL; None disables."""
        self._address = address
        self._monotonic_usec = monotonic_usec
        self._warned = False

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> SystemdNotifier:
        """Build from NOTIFY_SOCKET (`/path` or `@abstract`); disabled when unset or unusable."""
        raw = environ.get("NOTIFY_SOCKET", "")
        address = _socket_address(raw) if raw else None
        if raw and address is None:
            structlog.get_logger(__name__).warning(
                "sd_notify socket address not supported", notify_socket=raw
            )
        return cls(address)

    @property
    def enabled(self) -> bool:
        """True when there is a socket to send to."""
        return self._address is not None

    def ready(self) -> bool:
        """Start-up is complete (READY=1): systemd moves the unit to active."""
        return self.notify(READY=1)

    def status(self, text: str) -> bool:
        """Free-form status shown by `systemctl status` (one line)."""
        return self.notify(STATUS=text)

    def extend_timeout(self, seconds: float) -> bool:
        """Ask for `seconds` more before systemd's start (or stop) timeout fires
        (EXTEND_TIMEOUT_USEC); send again before they run out to keep waiting."""
        return self.notify(EXTEND_TIMEOUT_USEC=max(1, round(seconds * 1_000_000)))

    def watchdog(self) -> bool:
        """Keep-alive ping (WATCHDOG=1); send at least every `watchdog_interval()` seconds."""
        return self.notify(WATCHDOG=1)

    def stopping(self) -> bool:
        """Shutdown has begun (STOPPING=1)."""
        return self.notify(STOPPING=1)

    def reloading(self) -> bool:
        """A configuration reload has begun; send `ready()` when it is done.

        MONOTONIC_USEC lets systemd >= 253 (Type=notify-reload) match this message to the reload
        it asked for; older versions and Type=notify ignore the extra field.
        """
        return self.notify(RELOADING=1, MONOTONIC_USEC=self._monotonic_usec())

    def notify(self, **fields: str | int) -> bool:
        """Send one datagram of `KEY=value` lines, keys upper-cased, in the order given.

        Returns True when the datagram was sent, False when disabled or the send failed.
        Raises ValueError only for a malformed key (a programming error, not a runtime failure).
        Newlines in values are replaced by spaces since each line is one field.
        """
        lines = []
        for key, value in fields.items():
            name = key.upper()
            if _KEY.fullmatch(name) is None:
                raise ValueError(f"invalid sd_notify field name: {key!r}")
            text = str(value).replace("\r", " ").replace("\n", " ")
            lines.append(f"{name}={text}")
        if self._address is None or not lines:
            return False
        return self._send(self._address, "\n".join(lines).encode())

    def _send(self, address: str, datagram: bytes) -> bool:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.setblocking(False)
                sock.sendto(datagram, address)
        except OSError as exc:
            log = structlog.get_logger(__name__)
            # First failure loud, the rest quiet: the daemon keeps running either way.
            level = log.debug if self._warned else log.warning
            self._warned = True
            level("sd_notify send failed", error=str(exc), errno=exc.errno)
            return False
        return True


def watchdog_interval(environ: Mapping[str, str], pid: int | None = None) -> float | None:
    """Seconds between watchdog pings (half of WATCHDOG_USEC), or None when no watchdog applies.

    None when WATCHDOG_USEC is unset or not a positive integer, or when WATCHDOG_PID is set and is
    not this process (`pid`, default `os.getpid()`): the watchdog then belongs to someone else.
    """
    raw_usec = environ.get("WATCHDOG_USEC")
    if raw_usec is None:
        return None
    try:
        usec = int(raw_usec)
    except ValueError:
        return None
    if usec <= 0:
        return None
    raw_pid = environ.get("WATCHDOG_PID")
    if raw_pid is not None:
        own_pid = os.getpid() if pid is None else pid
        try:
            if int(raw_pid) != own_pid:
                return None
        except ValueError:
            return None
    return usec / 2 / 1_000_000
