"""A bounded HTTP load against 127.0.0.1: a few threads GET a path with a Host header, each
request on a new connection, until stopped (or a request or time cap is hit). New
connections: a refused or reset connection is then always a failed request, never a stale
keep-alive connection that any browser would retry.
Every answer is recorded: when (monotonic, and on the wall clock), how long, status (0 for a
connection error) and body, so a test can count failures and see which version answered
when."""

from __future__ import annotations

import http.client
import statistics
import threading
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Answer:
    at: float  # monotonic: for intervals within the test
    seconds: float
    status: int
    body: str
    retry_after: str | None = None  # its Retry-After header
    wall_ms: float = 0.0  # its start on the wall clock, to compare with the host's stamps


@dataclass
class Load:
    port: int
    host: str | None = None
    path: str = "/version"
    threads: int = 4
    max_requests: int = 200_000
    max_seconds: float = 300
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> Load:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._started = time.monotonic()
        for _ in range(self.threads):
            worker = threading.Thread(target=self._run, daemon=True)
            worker.start()
            self._workers.append(worker)

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=30)

    def one(self) -> Answer:
        """A single request, as the load makes them."""
        headers = {"Connection": "close", **({"Host": self.host} if self.host else {})}
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        started, wall_ms = time.monotonic(), time.time() * 1000
        try:
            conn.request("GET", self.path, headers=headers)
            reply = conn.getresponse()
            return Answer(started, time.monotonic() - started, reply.status,
                          reply.read().decode(errors="replace").strip(),
                          reply.getheader("Retry-After"), wall_ms)  # fmt: skip
        except (OSError, http.client.HTTPException) as exc:
            return Answer(started, time.monotonic() - started, 0, type(exc).__name__,
                          wall_ms=wall_ms)  # fmt: skip
        finally:
            conn.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            if len(self.answers) >= self.max_requests:
                break
            if time.monotonic() - self._started > self.max_seconds:
                break
            answer = self.one()
            if answer.status == 0:
                time.sleep(0.001)
            with self._lock:
                self.answers.append(answer)

    # --- what happened -----------------------------------------------------------------

    def between(self, start: float, end: float) -> list[Answer]:
        return [a for a in self.answers if start <= a.at <= end]

    def started_after(self, wall_ms: float) -> list[Answer]:
        """The answers to requests made after `wall_ms` on the wall clock (as the host stamps
        its decisions): each answer's own stamp, never monotonic time plus an offset, which a
        stepped wall clock (NTP, a VM resumed) leaves wrong."""
        return [a for a in self.answers if a.wall_ms > wall_ms]

    @staticmethod
    def failures(answers: list[Answer]) -> list[Answer]:
        return [a for a in answers if a.status != 200]

    @staticmethod
    def versions(answers: list[Answer]) -> list[str]:
        """The bodies of successful answers in time order, runs collapsed: ["v1", "v2"]."""
        seen: list[str] = []
        for answer in sorted(answers, key=lambda a: a.at):
            if answer.status == 200 and (not seen or seen[-1] != answer.body):
                seen.append(answer.body)
        return seen

    @staticmethod
    def latency_ms(answers: list[Answer], quantile: float) -> float:
        times = sorted(a.seconds * 1000 for a in answers)
        if not times:
            return 0.0
        if len(times) == 1:
            return times[0]
        return statistics.quantiles(times, n=100, method="inclusive")[int(quantile * 100) - 1]
