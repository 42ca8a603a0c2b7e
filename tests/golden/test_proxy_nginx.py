"""The generated proxy config in the real nginx: every golden loads (`nginx -t`, by exit code),
and a running nginx with every example tenant routes each domain to its own tenant, answers an
unknown Host with an error that reaches no tenant, serves ACME challenges over HTTP, redirects
to HTTPS once a certificate is there, and forgets a removed tenant's routes.

The host runtime assembles a tenant's site the same way: per route, the `tls` variant when its
certificate exists, else `plain`; upstreams list the containers' addresses (here: one small
HTTP server per upstream, standing where the containers would).
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from nginx_harness import Nginx, free_port, self_signed

from platform_lib.config.sources import read_sources
from platform_lib.config.validate import load_valid_config
from platform_lib.models.settings import Proxy
from platform_lib.planning.proxy_config import proxy_files

GOLDEN = Path(__file__).parent / "plans"
REPO_ROOT = Path(__file__).resolve().parents[2]
CASES = sorted(p.parent.parent.name for p in GOLDEN.glob("*/nginx/nginx.tsv"))
# The example settings' paths, as the goldens hold them.
EXAMPLE_PATHS = ("/etc/nginx/platform", "/etc/letsencrypt/live", "/var/www/acme")


def relocate(text: str, nginx: Nginx) -> str:
    """The goldens' host paths moved under the test's prefix (nothing else changes)."""
    for path, new in zip(EXAMPLE_PATHS, _local_paths(nginx), strict=True):
        text = text.replace(path, str(new))
    return text


def _local_paths(nginx: Nginx) -> tuple[Path, Path, Path]:
    return nginx.platform_dir, nginx.prefix / "certs", nginx.prefix / "acme"


def assemble(files: dict[str, str], project: str, nginx: Nginx, tls: bool, port: int) -> None:
    """Install one tenant+environment's site and upstreams, as the host runtime does."""
    site, upstreams = [], {}
    for line in files["nginx.tsv"].splitlines():
        number, _service, _port, _replicas, upstream, cert, domain, _path = line.split("\t")
        if tls:
            self_signed(Path(cert), domain)
        site.append(files[f"nginx-{number}.{'tls' if tls else 'plain'}.conf"])
        upstreams[upstream] = f"upstream {upstream} {{\n    server 127.0.0.1:{port};\n}}\n"
    (nginx.platform_dir / "http.conf").write_text(files["nginx-http.conf"])
    (nginx.platform_dir / "sites" / f"{project}.conf").write_text("".join(site))
    (nginx.platform_dir / "upstreams" / f"{project}.conf").write_text("".join(upstreams.values()))


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
@pytest.mark.parametrize("case", CASES)
def test_every_golden_loads_in_nginx(case: str, tls: bool, tmp_path: Path) -> None:
    nginx = Nginx(tmp_path)
    nginx.write_main()
    folder = GOLDEN / case / "nginx"
    files = {p.name: relocate(p.read_text(), nginx) for p in folder.iterdir()}
    assemble(files, case, nginx, tls, port=9)
    done = nginx.test()
    assert done.returncode == 0, done.stderr


# --- one running nginx with every example tenant and environment --------------------------


@dataclass
class Backend:
    """Stands where a tenant's containers would: answers with its name, remembers requests."""

    name: str
    seen: list[str] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def start(self) -> int:
        backend = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                backend.seen.append(f"{self.headers.get('Host')}{self.path}")
                body = f"{backend.name} proto={self.headers.get('X-Forwarded-Proto')}\n".encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return int(self.server.server_address[1])


@dataclass
class Host:
    nginx: Nginx
    http_port: int
    https_port: int
    backends: dict[str, Backend]
    """By compose project (`<tenant>-<env>`)."""
    domains: dict[str, list[str]]
    """Compose project -> its domains."""

    def get(self, host: str | None, path: str = "/") -> tuple[int, str, dict[str, str]]:
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=5)
        try:
            conn.putrequest("GET", path, skip_host=True)
            if host is not None:
                conn.putheader("Host", host)
            conn.endheaders()
            reply = conn.getresponse()
            return reply.status, reply.read().decode(), dict(reply.getheaders())
        finally:
            conn.close()

    def get_tls(self, host: str, path: str = "/") -> tuple[int, str, dict[str, str]]:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        with (
            socket.create_connection(("127.0.0.1", self.https_port), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            tls.sendall(request.encode())
            data = b""
            while chunk := tls.recv(65536):
                data += chunk
        head, _, body = data.decode().partition("\r\n\r\n")
        lines = head.split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        return int(lines[0].split()[1]), body, headers

    def install(self, project: str, tls: bool = False) -> None:
        assemble(self.files[project], project, self.nginx, tls, self.ports[project])

    files: dict[str, dict[str, str]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    config = load_valid_config(read_sources(REPO_ROOT))
    nginx = Nginx(tmp_path_factory.mktemp("nginx"))
    nginx.write_main()
    platform_dir, certificates, webroot = _local_paths(nginx)
    proxy = Proxy(
        dir=str(platform_dir), nginx_conf=str(nginx.conf), pid_file=str(nginx.pid_file),
        http_port=free_port(), https_port=free_port(), ipv6=False,
        certificates=str(certificates), acme_webroot=str(webroot),
    )  # fmt: skip
    settings = config.settings.model_copy(update={"proxy": proxy})
    found = Host(nginx, proxy.http_port, proxy.https_port, {}, {})
    for name, tenant in sorted(config.tenants.items()):
        for env in config.environments_of(tenant):
            project = f"{name}-{env}"
            files = dict(proxy_files(settings, tenant, env, project))
            backend = Backend(project)
            found.backends[project] = backend
            found.ports[project] = backend.start()
            found.files[project] = files
            found.domains[project] = [
                d for line in files["nginx.tsv"].splitlines() for d in _server_names(files, line)
            ]
            found.install(project)
    (webroot / ".well-known" / "acme-challenge").mkdir(parents=True)
    (webroot / ".well-known" / "acme-challenge" / "token-1").write_text("proof-1\n")
    nginx.start()
    try:
        yield found
    finally:
        nginx.stop()
        for backend in found.backends.values():
            assert backend.server is not None
            backend.server.shutdown()
            backend.server.server_close()


def _server_names(files: dict[str, str], line: str) -> list[str]:
    number = line.split("\t")[0]
    match = re.search(r"server_name ([^;]+);", files[f"nginx-{number}.plain.conf"])
    assert match is not None
    return match.group(1).split()


def test_every_domain_reaches_its_own_tenant_and_environment(host: Host) -> None:
    assert len(host.domains) == 6
    for project, domains in host.domains.items():
        assert domains, project
        for domain in domains:
            status, body, headers = host.get(domain)
            assert (status, body) == (200, f"{project} proto=http\n"), domain
            assert headers["X-Content-Type-Options"] == "nosniff"
            assert "Server" not in headers or "nginx/" not in headers["Server"]


@pytest.mark.parametrize("name", ["unknown.example", "paiss.me.evil.example", "127.0.0.1"])
def test_unknown_host_gets_an_error_and_reaches_no_tenant(host: Host, name: str) -> None:
    before = {p: len(b.seen) for p, b in host.backends.items()}
    status, body, _ = host.get(name, "/secret")
    assert (status, body) == (404, "no site is configured for this host name\n")
    assert {p: len(b.seen) for p, b in host.backends.items()} == before


def test_a_request_without_host_is_refused_and_reaches_no_tenant(host: Host) -> None:
    before = {p: len(b.seen) for p, b in host.backends.items()}
    assert host.get(None, "/secret")[0] == 400  # HTTP/1.1 requires Host
    assert {p: len(b.seen) for p, b in host.backends.items()} == before


def test_acme_challenge_is_served_over_http_from_the_webroot(host: Host) -> None:
    domain = host.domains["paiss-production"][0]
    status, body, _ = host.get(domain, "/.well-known/acme-challenge/token-1")
    assert (status, body) == (200, "proof-1\n")
    assert all("acme" not in seen for b in host.backends.values() for seen in b.seen)


def test_with_a_certificate_http_redirects_and_https_serves_the_tenant(host: Host) -> None:
    project = "gabs-massage-production"
    host.install(project, tls=True)
    host.nginx.reload()
    _wait_for(lambda: host.get(host.domains[project][0])[0] == 308)
    try:
        for domain in host.domains[project]:
            status, _, headers = host.get(domain, "/book?day=1")
            assert status == 308
            assert headers["Location"] == f"https://{domain}:{host.https_port}/book?day=1"
            status, body, headers = host.get_tls(domain, "/book")
            assert (status, body) == (200, f"{project} proto=https\n")
            assert headers["Strict-Transport-Security"] == "max-age=31536000"
        # The challenge still answers over HTTP (renewals), not redirected.
        status, body, _ = host.get(host.domains[project][0], "/.well-known/acme-challenge/token-1")
        assert (status, body) == (200, "proof-1\n")
        # A name without a route on HTTPS: the handshake is refused, no certificate is shown.
        with pytest.raises(ssl.SSLError):
            host.get_tls("unknown.example")
    finally:
        host.install(project)
        host.nginx.reload()
        _wait_for(lambda: host.get(host.domains[project][0])[0] == 200)


def test_a_removed_tenant_routes_disappear_and_the_others_stay(host: Host) -> None:
    project = "paiss-staging"
    domain = host.domains[project][0]
    assert host.get(domain)[0] == 200
    for kind in ("sites", "upstreams"):
        (host.nginx.platform_dir / kind / f"{project}.conf").unlink()
    assert host.nginx.test().returncode == 0
    host.nginx.reload()
    try:
        _wait_for(lambda: host.get(domain)[0] == 404)
        other = host.domains["paiss-production"][0]
        assert host.get(other)[:2] == (200, "paiss-production proto=http\n")
    finally:
        host.install(project)
        host.nginx.reload()
        _wait_for(lambda: host.get(domain)[0] == 200)


def _wait_for(condition: Callable[[], bool], seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "nginx did not pick up the new config"
        time.sleep(0.05)
