"""Build the httpx clients: the only place that knows timeouts, limits and the User-Agent, and
the network layer under them that bounds a whole request in time.

httpx's timeouts count between bytes, so an answer trickling its headers (or its body) a byte a
second never times out. Every client built here reads through `DeadlineBackend`: inside
`deadline(seconds)`, each socket read waits at most what is left of the request's deadline, and
all reads give up within a second once `STOP` is set (SIGTERM in `run`), so a stopping process
never waits on a slow server.
"""

from __future__ import annotations

import threading
import time
import typing
from collections.abc import Iterator
from contextlib import contextmanager

import httpcore
import httpx

from crawler.config import Config

STOP = threading.Event()  # set when the process stops: every read gives up within a second
SLICE = 1.0  # seconds: how often a waiting read looks at STOP
PAST_DEADLINE = "the answer did not arrive within its deadline"  # the ReadTimeout's message
_local = threading.local()


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every read of this thread's requests inside the block ends by `seconds` from now."""
    outer = getattr(_local, "until", None)
    until = time.monotonic() + seconds
    _local.until = min(until, outer) if outer is not None else until
    try:
        yield
    finally:
        _local.until = outer


def _left() -> float | None:
    until = getattr(_local, "until", None)
    return None if until is None else until - time.monotonic()


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        waited = 0.0
        while True:
            if STOP.is_set():
                raise httpcore.ReadError("stopping: the process was asked to stop")
            left = _left()
            if left is not None and left <= 0:
                raise httpcore.ReadTimeout(PAST_DEADLINE)
            wait = min(
                x
                for x in (SLICE, left, None if timeout is None else timeout - waited)
                if x is not None
            )
            try:
                return self._inner.read(max_bytes, wait)
            except httpcore.ReadTimeout:
                waited += wait
                if timeout is not None and waited >= timeout:
                    raise

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if STOP.is_set():
            raise httpcore.WriteError("stopping: the process was asked to stop")
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: typing.Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.SyncBackend):
    """httpcore's own backend, its streams wrapped in `_Stream`."""

    def connect_tcp(self, *args: typing.Any, **kwargs: typing.Any) -> httpcore.NetworkStream:
        if STOP.is_set():
            raise httpcore.ConnectError("stopping: the process was asked to stop")
        return _Stream(super().connect_tcp(*args, **kwargs))


def bounded_transport(limits: httpx.Limits | None = None) -> httpx.HTTPTransport:
    """An HTTPTransport whose connections read through `DeadlineBackend`."""
    transport = httpx.HTTPTransport(limits=limits or httpx.Limits())
    pool = transport._pool
    if not hasattr(pool, "_network_backend"):  # an httpcore that moved it: fail loudly
        raise RuntimeError("httpcore.ConnectionPool has no _network_backend to bound")
    pool._network_backend = DeadlineBackend()
    return transport


def build_client(config: Config, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    archive = config.archive
    limits = httpx.Limits(
        max_connections=archive.workers + 1, max_keepalive_connections=archive.workers + 1
    )
    return httpx.Client(
        # Only the encodings decode_body bounds (httpx would also ask for br and zstd).
        headers={"User-Agent": config.user_agent, "Accept-Encoding": "gzip, deflate"},
        # Read timeouts count between bytes; EDGI found 10 s+ much steadier than 2 s.
        timeout=httpx.Timeout(archive.timeout, connect=min(archive.timeout, 15.0)),
        limits=limits,
        transport=transport or bounded_transport(limits),
        follow_redirects=False,
    )


def build_live_client(config: Config) -> httpx.Client:
    """The client of live pages (checks, re-discovery)."""
    return httpx.Client(
        headers={"User-Agent": config.user_agent, "Accept-Encoding": "gzip, deflate"},
        timeout=config.live_timeout,
        transport=bounded_transport(),
        follow_redirects=False,
    )
