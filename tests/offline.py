"""The network blocked for a test: a connect to anything but loopback (gloo's own store) or a Unix
socket fails, so a test that passes cannot have downloaded anything."""

from __future__ import annotations

import contextlib
import socket

import pytest

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@contextlib.contextmanager
def network_blocked():
    connect = socket.socket.connect

    def guarded(sock, address):
        if isinstance(address, tuple) and address[0] not in LOOPBACK:
            raise OSError(f"network blocked in this test: {address}")
        return connect(sock, address)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", guarded)
        yield
