"""A real HTTP server on 127.0.0.1 playing GitHub's REST API with canned answers.

Every request is checked against GitHub's OpenAPI description (method, path template, path
and query parameters, JSON body) and for the headers GitHub requires; every canned answer is
checked when it is registered. Violations are collected in `problems`, which the fixture
asserts empty, and the offending request is answered 500 so the client fails loudly too.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from github.openapi import Spec

API_VERSION = "2022-11-28"
ACCEPT = "application/vnd.github+json"


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Seen:
    """A request as the server received it."""

    method: str
    path: str
    query: dict[str, str]
    body: Any

    @property
    def line(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in sorted(self.query.items()))
        return f"{self.method} {self.path}" + (f"?{query}" if query else "")


class FakeGitHub:
    def __init__(self, spec: Spec, token: str) -> None:
        self.spec = spec
        self.token = token
        self.routes: dict[tuple[str, str], list[Reply]] = {}
        self.seen: list[Seen] = []
        self.problems: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeGitHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def on(self, method: str, path: str, *replies: Reply) -> None:
        """Answer `method path` with `replies` in turn (the last one repeats). Each must be
        an answer GitHub documents for that operation."""
        assert replies, "give at least one reply"
        for reply in replies:
            problems = self.spec.check_response(method, path, reply.status, reply.body)
            assert not problems, "canned answer is not GitHub's shape:\n" + "\n".join(problems)
        self.routes[(method, path)] = list(replies)

    @property
    def lines(self) -> list[str]:
        return [s.line for s in self.seen]

    def bodies(self, method: str, path: str) -> list[Any]:
        return [s.body for s in self.seen if (s.method, s.path) == (method, path)]

    def handle(self, handler: BaseHTTPRequestHandler) -> Reply:
        url = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        query = parse_qs(url.query, keep_blank_values=True)
        method = handler.command
        problems = self.spec.check_request(method, url.path, query, raw)
        problems += self._header_problems(method, url.path, handler)
        body = json.loads(raw) if raw and not problems else raw or None
        with self._lock:
            self.seen.append(Seen(method, url.path, {k: v[-1] for k, v in query.items()}, body))
            if problems:
                self.problems.extend(problems)
                return Reply(500, {"message": "; ".join(problems)})
            replies = self.routes.get((method, url.path))
            if not replies:
                self.problems.append(f"unexpected request {method} {handler.path}")
                return Reply(501, {"message": f"nothing canned for {method} {url.path}"})
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def _header_problems(
        self, method: str, path: str, handler: BaseHTTPRequestHandler
    ) -> list[str]:
        expected = {
            "Accept": ACCEPT,
            "X-GitHub-Api-Version": API_VERSION,
            "Authorization": f"Bearer {self.token}",
        }
        problems = [
            f"{method} {path}: header {name} is not the expected value"
            for name, value in expected.items()
            if handler.headers.get(name) != value
        ]
        if not handler.headers.get("User-Agent"):
            problems.append(f"{method} {path}: no User-Agent (GitHub refuses such requests)")
        return problems


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall

    def _answer(self) -> None:
        fake: FakeGitHub = self.server.fake  # type: ignore[attr-defined]
        reply = fake.handle(self)
        data = b"" if reply.body is None else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        if data:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass
