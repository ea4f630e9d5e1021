"""Keeps a test subprocess on loopback: connections elsewhere are refused and logged.

Tests that give the crawler links to internal addresses (10.x, 169.254.169.254 …) must
never send traffic there, even when the code under test is wrong. ``install()`` replaces
``socket.socket.connect`` / ``connect_ex`` (Twisted connects with ``connect_ex``) in this
process: a connection to anything but a loopback address fails with ECONNREFUSED and a
line ``NETGUARD blocked ADDRESS`` goes to stderr, which the test asserts is absent.

``python -m tests.netguard ARGS`` runs ``govaudit ARGS`` with the guard installed.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import sys
from typing import Any

MARK = "NETGUARD blocked"


def _allowed(address: Any) -> bool:
    if not isinstance(address, tuple) or not address:
        return True  # AF_UNIX and the like
    try:
        ip = ipaddress.ip_address(str(address[0]).split("%")[0])
    except ValueError:
        return False  # a name: resolved elsewhere than the test expects
    return ip.is_loopback


def install() -> None:
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex

    def connect(self: socket.socket, address: Any) -> None:
        if not _allowed(address):
            print(f"{MARK} {address!r}", file=sys.stderr, flush=True)
            raise ConnectionRefusedError(errno.ECONNREFUSED, "blocked by tests.netguard")
        return original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if not _allowed(address):
            print(f"{MARK} {address!r}", file=sys.stderr, flush=True)
            return errno.ECONNREFUSED
        return original_connect_ex(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]


if __name__ == "__main__":
    install()
    from govaudit.cli import entry

    sys.argv = ["govaudit", *sys.argv[1:]]
    entry()
