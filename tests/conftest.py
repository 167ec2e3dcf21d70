"""Fixtures shared by the unit tests (the notebook machinery is in the repository's conftest.py)."""

import socket

import pytest


def _refuse_network(*args, **kwargs):
    raise OSError("network access is blocked in this test")


@pytest.fixture
def no_network(monkeypatch):
    """Make every attempt to open a connection or resolve a host fail (as tests/offline does in `make test`)."""
    monkeypatch.setattr(socket.socket, "connect", _refuse_network)
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse_network)
    monkeypatch.setattr(socket, "create_connection", _refuse_network)
    monkeypatch.setattr(socket, "getaddrinfo", _refuse_network)
