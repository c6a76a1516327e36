"""Tell systemd how the service is doing (the ``sd_notify`` protocol), without a dependency.

systemd passes the address of a datagram socket in ``$NOTIFY_SOCKET``: a
file-system path, or a Linux abstract name written with a leading ``@``. Each
datagram is newline-separated ``KEY=VALUE`` assignments: ``READY=1`` once
the inbox is watched, ``STATUS=...`` for ``systemctl status``, ``WATCHDOG=1``
pings, ``RELOADING=1`` and ``STOPPING=1``. Outside systemd every call is a
no-op that returns False.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping

__all__ = ["Notifier", "notify_address", "watchdog_interval"]


def notify_address(environ: Mapping[str, str]) -> str | None:
    """The socket address from ``NOTIFY_SOCKET``, abstract ``@name`` as ``\\0name``.

    Returns None when the variable is unset, empty, or names a transport
    other than AF_UNIX (``vsock:``).
    """
    address = environ.get("NOTIFY_SOCKET", "")
    if not address or not (address.startswith(("/", "@"))):
        return None
    return "\0" + address[1:] if address.startswith("@") else address


def watchdog_interval(environ: Mapping[str, str] | None = None) -> float | None:
    """Seconds between watchdog pings, or None when systemd expects none.

    systemd sets ``WATCHDOG_USEC`` (the timeout) and ``WATCHDOG_PID`` (the
    process it applies to). Pinging at half the timeout, as sd_watchdog_enabled(3)
    advises, leaves room for a slow moment.

    Parameters
    ----------
    environ : mapping or None
        ``os.environ`` by default.

    Returns
    -------
    float or None
        Half of ``WATCHDOG_USEC`` in seconds; None when it is unset, not a
        positive integer, or ``WATCHDOG_PID`` names another process.
    """
    environ = os.environ if environ is None else environ
    try:
        usec = int(environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    if usec <= 0:
        return None
    pid = environ.get("WATCHDOG_PID")
    if pid:
        try:
            if int(pid) != os.getpid():
                return None
        except ValueError:
            return None
    return usec / 1_000_000 / 2


class Notifier:
    """A sender of notifications to systemd's socket, or a no-op outside systemd.

    Parameters
    ----------
    address : str or None
        As returned by ``notify_address``; None disables every call.
    """

    def __init__(self, address: str | None) -> None:
        self._address = address
        self._socket: socket.socket | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        """The notifier for ``$NOTIFY_SOCKET`` (``os.environ`` by default)."""
        return cls(notify_address(os.environ if environ is None else environ))

    @property
    def enabled(self) -> bool:
        """True when running under systemd with a notify socket."""
        return self._address is not None

    def send(self, **assignments: str | int) -> bool:
        """Send ``KEY=VALUE`` assignments in one datagram.

        Returns
        -------
        bool
            True when the datagram was sent; False outside systemd or when the
            socket refused it (systemd then simply does not hear from us; the
            caller may log it).
        """
        if self._address is None:
            return False
        lines = [f"{key}={_one_line(str(value))}" for key, value in assignments.items()]
        try:
            if self._socket is None:
                self._socket = socket.socket(
                    socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC
                )
            self._socket.sendto("\n".join(lines).encode("utf-8"), self._address)
        except OSError:
            self.close()
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        """``READY=1``: start-up is complete (the inbox is watched)."""
        return self.send(READY=1, **({"STATUS": status} if status else {}))

    def status(self, text: str) -> bool:
        """``STATUS=...``: one line shown by ``systemctl status``."""
        return self.send(STATUS=text)

    def watchdog(self) -> bool:
        """``WATCHDOG=1``: the service is alive; send every ``watchdog_interval()`` seconds."""
        return self.send(WATCHDOG=1)

    def reloading(self) -> bool:
        """``RELOADING=1``: a configuration reload began; send ``ready()`` when done."""
        return self.send(
            RELOADING=1, MONOTONIC_USEC=time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        )

    def stopping(self, status: str | None = None) -> bool:
        """``STOPPING=1``: shutdown began."""
        return self.send(STOPPING=1, **({"STATUS": status} if status else {}))

    def close(self) -> None:
        """Close the socket; a later send opens a new one."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def _one_line(text: str) -> str:
    return " ".join(text.splitlines())
