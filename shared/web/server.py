"""The production HTTP server: gunicorn's threaded worker with a read timeout and a body limit.

Each worker process builds its own service (connections, threads) after the fork, through
``build``: nothing opened in the master is used in a worker. The worker's background work (the
projector, the coach-scope follower) therefore runs once per worker process, which is why a
process that has any is served by one worker (``polku serve`` refuses more) and scales with
threads.

Slow clients: gunicorn's threaded worker hands a new connection that sends nothing for 5 s
back to its poller, where it holds no thread; but once a request has begun, a thread reads it.
:class:`TimedSocket` bounds every such read and write by ``read_timeout`` seconds: a client
that stops sending mid-request (headers or body), or stops reading its answer, is dropped.
:class:`BodyLimit` refuses a body over the limit with 413 before reading it, and reads an
accepted one whole before the application runs, answering 408 to a client that stalls.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import logging
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import TConn, ThreadWorker

from shared import heap
from shared.web.problems import PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE, SLUGS

log = logging.getLogger("polku.server")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class TimedSocket(socket.socket):
    """A client socket whose blocking reads give up after ``read_timeout`` seconds.

    gunicorn switches a connection between the poller (non-blocking) and a thread (blocking);
    here "blocking" means blocking for at most the read timeout. A read or write that times out
    is reported as a reset connection, which gunicorn drops quietly.
    """

    read_timeout: float = 10.0

    def setblocking(self, flag: bool) -> None:
        if flag:
            self.settimeout(self.read_timeout)
        else:
            super().setblocking(False)

    def recv(self, *args: Any) -> bytes:
        try:
            return super().recv(*args)
        except TimeoutError:
            raise _dropped(self) from None

    def recv_into(self, *args: Any) -> int:
        try:
            return super().recv_into(*args)
        except TimeoutError:
            raise _dropped(self) from None

    def sendall(self, *args: Any) -> None:
        try:
            super().sendall(*args)
        except TimeoutError:  # a client that stopped reading its answer
            raise _dropped(self, "reading") from None


def _dropped(sock: socket.socket, doing: str = "sending") -> ConnectionResetError:
    try:
        peer = sock.getpeername()
    except OSError:
        peer = "?"
    log.info("dropped %s: it stopped %s for %.1f s", peer, doing, sock.gettimeout())
    return ConnectionResetError(errno.ECONNRESET, f"the client stopped {doing}")


class TimedThreadWorker(ThreadWorker):
    """gunicorn's threaded worker, its client sockets :class:`TimedSocket` s."""

    read_timeout: float = 10.0

    def accept(self, listener: socket.socket) -> None:
        try:
            client, address = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        timed = TimedSocket(client.family, client.type, client.proto, fileno=client.detach())
        timed.read_timeout = self.read_timeout
        timed.setblocking(True)
        self.nr_conns += 1
        self.enqueue_req(TConn(self.cfg, timed, address, listener.getsockname()))


def problem_body(status: int, title: str, detail: str, path: str) -> bytes:
    """A problem+json body for answers given outside Flask (no request context)."""
    return json.dumps(
        {
            "type": PROBLEM_TYPE_BASE + SLUGS.get(status, "error"),
            "title": title,
            "status": status,
            "detail": detail,
            "instance": path,
        }
    ).encode()


class BodyLimit:
    """Refuses a request body over ``max_bytes`` (413) and reads an accepted one whole first,
    so the application never blocks on a slow client; one that stalls gets a 408."""

    CHUNK = 64 * 1024

    def __init__(self, app: WSGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        length_header = environ.get("CONTENT_LENGTH") or ""
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if not length_header and not chunked:
            return self.app(environ, start_response)
        try:
            length = int(length_header) if length_header else None
        except ValueError:
            return self._refuse(
                start_response, 400, "Bad Request", "Content-Length is not a number", path
            )
        if length is not None and length > self.max_bytes:
            return self._too_large(start_response, path)
        try:
            body = self._read(environ["wsgi.input"], length)
        except OSError:
            # Nothing more will be read: gunicorn then closes the connection after the answer
            # rather than wait to drain a body that is not coming.
            with contextlib.suppress(OSError, KeyError, AttributeError):
                environ["gunicorn.socket"].shutdown(socket.SHUT_RD)
            return self._refuse(
                start_response,
                408,
                "Request Timeout",
                "the request body did not arrive in time; the connection is closed",
                path,
            )
        if body is None:
            return self._too_large(start_response, path)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)

    def _read(self, stream: Any, length: int | None) -> bytes | None:
        """The body, or None when a chunked one runs over the limit."""
        parts: list[bytes] = []
        size = 0
        while length is None or size < length:
            want = self.CHUNK if length is None else min(self.CHUNK, length - size)
            part = stream.read(want)
            if not part:
                break
            parts.append(part)
            size += len(part)
            if size > self.max_bytes:
                return None
        return b"".join(parts)

    def _too_large(self, start_response: Callable[..., Any], path: str) -> list[bytes]:
        return self._refuse(
            start_response,
            413,
            "Content Too Large",
            f"the request body is larger than {self.max_bytes} bytes (POLKU_MAX_BODY_BYTES)",
            path,
        )

    @staticmethod
    def _refuse(
        start_response: Callable[..., Any], status: int, title: str, detail: str, path: str
    ) -> list[bytes]:
        body = problem_body(status, title, detail, path)
        start_response(
            f"{status} {title}",
            [("Content-Type", PROBLEM_CONTENT_TYPE), ("Content-Length", str(len(body)))],
        )
        return [body]


@dataclass
class Built:
    """What a worker process serves, and how to close it when the worker stops."""

    wsgi: WSGIApp
    close: Callable[[], None]


@dataclass
class ServerOptions:
    binds: list[str]
    workers: int
    threads: int
    timeout: int
    read_timeout: float
    max_connections: int
    log_level: str = "warning"
    announce: Callable[[list[str]], None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Server(BaseApplication):
    """gunicorn run from code: ``build`` runs in each worker process after the fork."""

    def __init__(self, build: Callable[[], Built], options: ServerOptions) -> None:
        self.build = build
        self.options = options
        self.built: Built | None = None
        super().__init__()

    def load_config(self) -> None:
        options = self.options
        worker = type(
            "PolkuThreadWorker", (TimedThreadWorker,), {"read_timeout": options.read_timeout}
        )
        settings: dict[str, Any] = {
            "bind": options.binds,
            "workers": options.workers,
            "threads": options.threads,
            "worker_class": worker,
            "timeout": options.timeout,
            "graceful_timeout": options.timeout,
            "keepalive": max(1, min(5, int(options.read_timeout))),
            "worker_connections": options.max_connections,
            "loglevel": options.log_level,
            "errorlog": "-",
            "accesslog": None,
            "preload_app": False,
            "worker_exit": self._worker_exit,
            "when_ready": self._when_ready,
            **options.extra,
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> WSGIApp:
        self.built = self.build()
        heap.settle()  # the worker's start-up heap, out of every later full collection's way
        return self.built.wsgi

    def _worker_exit(self, _server: Any, _worker: Any) -> None:
        if self.built is not None:
            built, self.built = self.built, None
            built.close()

    def _when_ready(self, server: Any) -> None:
        if self.options.announce is not None:
            self.options.announce([str(listener) for listener in server.LISTENERS])
