"""A throwaway platform repository whose hosts are the e2e servers, and helpers to drive it
through the real command line."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from e2e import tenant_claims
from e2e.servers import Servers
from nginx_harness import Nginx, free_port

from platform_lib.models.records import HistoryEvent, ReleaseRecord


def http_get(port: int, path: str = "/version", timeout: float = 2.0) -> str | None:
    """The body, or None when nothing answers (connection refused, reset, HTTP error)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as reply:
            return str(reply.read().decode())
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return None


def web_tenant(
    port_var: str = "WEB_PORT",
    secrets: tuple[str, ...] = (),
    volume: bool = False,
    backup: bool = False,
) -> dict[str, Any]:
    """A tenant running the demo-web test image, its port published per environment."""
    service: dict[str, Any] = {"ports": [f"127.0.0.1:${{{port_var}}}:8080"]}
    if secrets:
        service["environment"] = {name: f"${{{name}}}" for name in secrets}
    compose: dict[str, Any] = {"services": {"web": service}}
    if volume:
        service["volumes"] = ["data:/data"]
        compose["volumes"] = {"data": {}}
    manifest = {
        "images": {"web": {"repository": "demo-web"}},
        "routes": [{"service": "web", "port": 8080, "health_path": "/health"}],
        "secrets": list(secrets),
        "backups": [{"kind": "volume", "name": "data", "volume": "data"}] if backup else [],
    }  # fmt: skip
    return {"compose": compose, "manifest": manifest}


def routed_tenant() -> dict[str, Any]:
    """The web test image, reached only through the proxy: no published port."""
    tenant = web_tenant()
    del tenant["compose"]["services"]["web"]["ports"]
    return tenant


def proxy_settings(nginx: Nginx, http_port: int, https_port: int) -> dict[str, Any]:
    """`proxy:` settings for an nginx of tests/nginx_harness.py."""
    return {
        "dir": str(nginx.platform_dir), "nginx_conf": str(nginx.conf),
        "pid_file": str(nginx.pid_file), "http_port": http_port, "https_port": https_port,
        "ipv6": False, "certificates": str(nginx.prefix / "certs"),
        "acme_webroot": str(nginx.prefix / "acme"), "drain": 10,
    }  # fmt: skip


@dataclass
class Platform:
    servers: Servers
    root: Path
    deploy_root: Path
    ports: dict[tuple[str, str], int] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    def settings(self, **overrides: Any) -> dict[str, Any]:
        host = {"address": "127.0.0.1", "port": int(self.servers.env["SSH_PORT"]),
                "user": "root", "host_key": self.servers.env["SSH_HOST_KEY_PUB"]}  # fmt: skip
        settings: dict[str, Any] = {
            "deploy_root": str(self.deploy_root),
            # The test images (build-test-images.sh) every test tenant runs: shared, no one's.
            "registry": {"host": self.servers.env["REGISTRY"], "namespace": "platform-tests",
                         "username": "platform", "token_secret": "REGISTRY_TOKEN",
                         "shared_repositories": ["demo-web", "busybox"]},
            "environments": {
                "staging": {"domain_template": "staging.{domain}", "hosts": {"e2e": host}},
                "production": {"deploy_after": "staging", "hosts": {"e2e": dict(host)}},
            },
            "releases": {"keep": 3},
            "timeouts": {"lock_wait": 2, "lock_expiry": 120, "pull": 60, "up": 20, "health": 10},
        }  # fmt: skip
        settings.update(overrides)
        return settings

    def write_settings(self, settings: dict[str, Any]) -> None:
        path = self.root / "configs" / "platform.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(settings, sort_keys=False))

    def add_tenant(
        self, name: str, tenant: dict[str, Any], extra_env: dict[str, str] | None = None
    ) -> None:
        if self.servers.shared:
            tenant_claims.claim(self.servers.state, name)
        folder = self.root / "configs" / name
        folder.mkdir(parents=True, exist_ok=True)
        for route in tenant["manifest"]["routes"]:
            route["domains"] = {"production": [f"{name}.example.test"]}
        (folder / "docker-compose.yml").write_text(
            yaml.safe_dump(tenant["compose"], sort_keys=False)
        )
        (folder / "project.yml").write_text(yaml.safe_dump(tenant["manifest"], sort_keys=False))
        for env in ("staging", "production"):
            port = self.ports.setdefault((name, env), free_port())
            lines = [f"WEB_PORT={port}", *(f"{k}={v}" for k, v in (extra_env or {}).items())]
            (folder / f".env.{env}").write_text("\n".join(lines) + "\n")

    def cleanup(self) -> None:
        """Remove the containers and volumes of every tenant this platform deployed, then let
        other processes have their names."""
        try:
            self._remove_tenants()
        finally:
            for name in {name for name, _ in self.ports}:
                tenant_claims.release(name)

    def _remove_tenants(self) -> None:
        for name, env in self.ports:
            project = f"{name}-{env}"
            label = f"label=com.docker.compose.project={project}"
            ids = self.servers.docker("ps", "-aq", "--filter", label).split()
            if ids:
                self.servers.docker("rm", "-f", *ids)
            volumes = self.servers.docker("volume", "ls", "-q", "--filter", label).split()
            if volumes:
                self.servers.docker("volume", "rm", "-f", *volumes)
            networks = self.servers.docker("network", "ls", "-q", "--filter", label).split()
            if networks:
                self.servers.docker("network", "rm", *networks, check=False)

    def container(self, compose_project: str) -> tuple[str, str]:
        """(id, creation time) of the one container of a compose project."""
        out = self.servers.docker(
            "ps", "--filter", f"label=com.docker.compose.project={compose_project}",
            "--format", "{{.ID}} {{.CreatedAt}}",
        )  # fmt: skip
        lines = out.splitlines()
        assert len(lines) == 1, out
        container_id, created = lines[0].split(" ", 1)
        return container_id, created

    def service_containers(self, compose_project: str, service: str) -> list[str]:
        """Ids of a service's containers, running or not, sorted."""
        out = self.servers.docker(
            "ps", "-aq", "--no-trunc",
            "--filter", f"label=com.docker.compose.project={compose_project}",
            "--filter", f"label=com.docker.compose.service={service}",
        )  # fmt: skip
        return sorted(out.split())

    def port(self, name: str, env: str = "staging") -> int:
        return self.ports[(name, env)]

    def cli(
        self,
        *args: str,
        check: bool = True,
        env: dict[str, str] | None = None,
        timeout: float = 180,
        root: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            self.cli_argv(*args, root=root), env=self.cli_env(env),
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        if check and done.returncode != 0:
            raise AssertionError(
                f"platform {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
            )
        return done

    def cli_argv(self, *args: str, root: bool = True) -> list[str]:
        return [sys.executable, "-m", "platform_lib", *args,
                *(("--root", str(self.root)) if root else ())]  # fmt: skip

    def cli_env(self, env: dict[str, str] | None = None) -> dict[str, str]:
        """The environment `cli` runs the platform with (a deployer's: token, SSH key)."""
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        full_env.update({
            "REGISTRY_TOKEN": Path(self.servers.env["REGISTRY_PASSWORD_FILE"]).read_text().strip(),
            "PLATFORM_SSH_KEY": self.servers.env["SSH_CLIENT_KEY"],
            "USER": "alice",
        })  # fmt: skip
        full_env.update(self.env)
        full_env.update(env or {})
        return full_env

    def deploy(
        self, project: str, environment: str = "staging", image: str | None = "v1", **kwargs: Any
    ) -> subprocess.CompletedProcess[str]:
        images = ["--image", f"web={image}"] if image else []
        return self.cli("deploy", "--project", project, "--env", environment, *images, **kwargs)

    def base(self, project: str, env: str = "staging") -> Path:
        return self.deploy_root / "projects" / project / env

    def history(self, project: str, env: str = "staging") -> list[dict[str, Any]]:
        """The events of the host's history.jsonl, each checked against the model."""
        path = self.base(project, env) / "history.jsonl"
        if not path.exists():
            return []
        return [
            HistoryEvent.model_validate_json(line).model_dump(mode="json")
            for line in path.read_text().splitlines()
        ]

    def current(self, project: str, env: str = "staging") -> str | None:
        link = self.base(project, env) / "current"
        return os.readlink(link).rsplit("/", 1)[1] if link.is_symlink() else None

    def release_json(
        self, project: str, env: str = "staging", release: str | None = None
    ) -> dict[str, Any]:
        name = release or self.current(project, env)
        path = self.base(project, env) / "releases" / str(name) / "release.json"
        return ReleaseRecord.model_validate_json(path.read_text()).model_dump(mode="json")
