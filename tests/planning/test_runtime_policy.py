"""The host's tenant security policy (`platform_policy_check`, runtime/policy.sh), run with the real
`docker compose config` and no Docker daemon: one case per rule, the configs it must let
through (the example tenants among them), grants, and a model the check cannot read.

Docker Compose is required: without it these tests fail (CI installs it with
tests/e2e/infra/install.sh).
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from platform_lib.config import compose_keys
from platform_lib.config.sources import read_sources
from platform_lib.config.validate import load_valid_config
from platform_lib.models.plan import ServerFacts
from platform_lib.planning.builder import PlanRequest, build_plan
from platform_lib.planning.render import runtime, runtime_file

DOCKER = shutil.which("docker")
BASH = shutil.which("bash") or "/bin/bash"
IMAGE = "busybox:1.36"
PROJECT = "shop-staging"
COMPOSE = ("docker", "compose", "--project-name", PROJECT, "--file", "docker-compose.yml",
           "--file", "platform.override.yml", "--env-file", ".env")  # fmt: skip
REFUSED = re.compile(r" refused ((?:policy|compose)\.[a-z-]+): (\S+) ")


@functools.cache
def compose_missing() -> str | None:
    if DOCKER is None:
        return "the docker CLI is not on PATH"
    done = subprocess.run([DOCKER, "compose", "version"], capture_output=True, check=False)
    return None if done.returncode == 0 else "`docker compose version` failed"


@pytest.fixture(autouse=True, scope="module")
def _docker_compose() -> None:
    missing = compose_missing()
    if missing is not None:
        pytest.fail(f"docker compose v2 is required ({missing}); tests/e2e/infra/install.sh "
                    "installs it", pytrace=False)  # fmt: skip


def run_check(
    base: Path,
    release: str,
    argv: tuple[str, ...],
    path: str | None = None,
    environ: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    # As a plan's step runs it: under `set -euo pipefail`, called with `|| rc=$?`.
    script = (
        f'set -euo pipefail\n{runtime()}\nrc=0\nplatform_policy_check "$@" || rc=$?\nexit $rc\n'
    )
    return subprocess.run(
        [BASH, "-c", script, "bash", str(base), release, *argv],
        capture_output=True,
        text=True,
        check=False,
        env={
            "PATH": path or os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(base),
            # No daemon: compose resolves the model on its own.
            "DOCKER_HOST": f"unix://{base}/no-docker.sock",
            **(environ or {}),
        },
    )


def check(
    tmp_path: Path,
    compose: dict[str, Any],
    env: str = "",
    options: tuple[str, ...] = (),
    environ: dict[str, str] | None = None,
) -> tuple[int, list[tuple[str, str]]]:
    """Exit status and the (rule, where) refused, of the check on a release of this file."""
    release = tmp_path / "base" / "releases" / "r1"
    release.mkdir(parents=True)
    (release / "docker-compose.yml").write_text(yaml.safe_dump(compose), encoding="utf-8")
    (release / "platform.override.yml").write_text("services: {}\n", encoding="utf-8")
    (release / ".env").write_text(env, encoding="utf-8")
    done = run_check(tmp_path / "base", "r1", (PROJECT, *options, "--", *COMPOSE), environ=environ)
    refused = [(m[1], m[2]) for m in REFUSED.finditer(done.stderr)]
    assert done.returncode == (1 if refused else done.returncode) in (0, 1), done.stderr
    return done.returncode, refused


def web(**service: Any) -> dict[str, Any]:
    return {"services": {"web": {"image": IMAGE, **service}}}


SUBNET = "169.254.169.0/24"  # the host's metadata address would route to the tenant's bridge
REFUSED_CASES: dict[str, tuple[dict[str, Any], list[tuple[str, str]]]] = {
    "privileged": (web(privileged=True), [("policy.privileged", "services.web.privileged")]),
    "cap_add": (
        web(cap_add=["NET_BIND_SERVICE", "SYS_ADMIN"]),
        [
            ("policy.capabilities", "services.web.cap_add.0"),
            ("policy.capabilities", "services.web.cap_add.1"),
        ],
    ),
    "network_mode host": (
        web(network_mode="host"),
        [("policy.host-namespace", "services.web.network_mode")],
    ),
    "network_mode container": (
        web(network_mode="container:other-tenant-web-1"),
        [("policy.host-namespace", "services.web.network_mode")],
    ),
    "network_mode bridge": (
        web(network_mode="bridge"),
        [("policy.foreign-network", "services.web.network_mode")],
    ),
    "pid host": (web(pid="host"), [("policy.host-namespace", "services.web.pid")]),
    "ipc host": (web(ipc="host"), [("policy.host-namespace", "services.web.ipc")]),
    "ipc container": (web(ipc="container:x"), [("policy.host-namespace", "services.web.ipc")]),
    "uts host": (web(uts="host"), [("policy.host-namespace", "services.web.uts")]),
    "userns host": (
        web(userns_mode="host"),
        [("policy.host-namespace", "services.web.userns_mode")],
    ),
    "cgroup host": (web(cgroup="host"), [("policy.host-namespace", "services.web.cgroup")]),
    "network driver host": (
        {**web(networks=["n"]), "networks": {"n": {"driver": "host"}}},
        [("policy.host-namespace", "networks.n")],
    ),
    "devices": (web(devices=["/dev/kmsg:/dev/kmsg"]), [("policy.devices", "services.web.devices")]),
    "device_cgroup_rules": (
        web(device_cgroup_rules=["c 1:3 mr"]),
        [("policy.devices", "services.web.device_cgroup_rules")],
    ),
    "gpus": (web(gpus="all"), [("policy.devices", "services.web.gpus")]),
    "device reservation": (
        web(deploy={"resources": {"reservations": {"devices": [{"capabilities": ["gpu"]}]}}}),
        [("policy.devices", "services.web.deploy.resources.reservations.devices")],
    ),
    "cgroup_parent": (
        web(cgroup_parent="system.slice"),
        [("policy.cgroup-parent", "services.web.cgroup_parent")],
    ),
    "relative bind": (
        web(volumes=["./data:/data"]),
        [("policy.host-bind-mount", "services.web.volumes.0")],
    ),
    "absolute bind, long syntax": (
        web(volumes=[{"type": "bind", "source": "/srv/other", "target": "/x"}]),
        [("policy.host-bind-mount", "services.web.volumes.0")],
    ),
    "volume binding a host path": (
        {
            **web(volumes=["vol:/vol"]),
            "volumes": {"vol": {"driver_opts": {"type": "none", "o": "bind", "device": "/etc"}}},
        },
        [("policy.host-bind-mount", "volumes.vol.driver_opts")],
    ),
    "docker socket": (
        web(volumes=["/var/run/docker.sock:/var/run/docker.sock"]),
        [("policy.docker-socket", "services.web.volumes.0")],
    ),
    "directory of the docker socket": (
        web(volumes=["/run:/host-run:ro"]),
        [("policy.docker-socket", "services.web.volumes.0")],
    ),
    "external volume": (
        {**web(volumes=["vol:/vol"]), "volumes": {"vol": {"external": True}}},
        [("policy.foreign-volume", "volumes.vol")],
    ),
    "volume named for another tenant": (
        {**web(volumes=["vol:/vol"]), "volumes": {"vol": {"name": "shop-production_data"}}},
        [("policy.foreign-volume", "volumes.vol")],
    ),
    "volumes_from a container": (
        web(volumes_from=["container:other"]),
        [("policy.foreign-volume", "services.web.volumes_from.0")],
    ),
    "external network": (
        {**web(networks=["n"]), "networks": {"n": {"external": True, "name": "proxy"}}},
        [("policy.foreign-network", "networks.n")],
    ),
    "network named for another tenant": (
        {**web(networks=["n"]), "networks": {"n": {"name": "other-staging_default"}}},
        [("policy.foreign-network", "networks.n")],
    ),
    "external_links": (
        web(external_links=["other:db"]),
        [("policy.foreign-network", "services.web.external_links.0")],
    ),
    "secret from a host file": (
        {**web(secrets=["s"]), "secrets": {"s": {"file": "/etc/shadow"}}},
        [("policy.host-file", "secrets.s.file")],
    ),
    "config from a host file": (
        {**web(configs=["c"]), "configs": {"c": {"file": "../../../../etc/passwd"}}},
        [("policy.host-file", "configs.c.file")],
    ),
    "env_file outside the release": (
        web(env_file=["/etc/hostname"]),
        [("policy.host-file", "services.web.env_file.0.path")],
    ),
    "secret from a platform variable": (
        {**web(secrets=["s"]), "secrets": {"s": {"environment": "PLATFORM_PROJECT"}}},
        [("policy.platform-variable", "secrets.s.environment")],
    ),
    "secret from the deploy's environment": (
        {**web(secrets=["s"]), "secrets": {"s": {"environment": "REGISTRY_TOKEN"}}},
        [("policy.platform-variable", "secrets.s.environment")],
    ),
    "provider": (
        web(provider={"type": "bash"}),
        [("policy.unsupported-key", "services.web.provider")],
    ),
    "models": (  # `config` leaves the top-level models out; the service's use of one stays
        {**web(models=["llm"]), "models": {"llm": {"model": "ai/smollm2"}}},
        [("policy.unsupported-key", "services.web.models")],
    ),
    "use_api_socket": (
        web(use_api_socket=True),
        [("policy.docker-socket", "services.web.use_api_socket")],
    ),
    "privileged hook": (
        web(post_start=[{"command": ["id"], "user": "root", "privileged": True}]),
        [("policy.privileged", "services.web.post_start.0.privileged")],
    ),
    "runtime": (web(runtime="runc-unsafe"), [("policy.runtime", "services.web.runtime")]),
    "container_name": (
        web(container_name="other-production-web-1"),
        [("compose.container-name", "services.web.container_name")],
    ),
    "build": (web(build={"context": "."}), [("compose.build", "services.web.build")]),
    "oom_score_adj": (
        web(oom_score_adj=-1000),
        [("policy.resources", "services.web.oom_score_adj")],
    ),
    "oom_kill_disable": (
        web(oom_kill_disable=True),
        [("policy.resources", "services.web.oom_kill_disable")],
    ),
    "pids_limit": (web(pids_limit=-1), [("policy.resources", "services.web.pids_limit")]),
    "cpu_shares": (web(cpu_shares=262144), [("policy.resources", "services.web.cpu_shares")]),
    "log driver": (
        web(logging={"driver": "syslog", "options": {"syslog-address": "tcp://10.0.0.1:514"}}),
        [("policy.log-driver", "services.web.logging.driver")],
    ),
    "mac_address": (
        web(mac_address="02:42:ac:11:00:02"),
        [("policy.foreign-network", "services.web.mac_address")],
    ),
    "link-local address on a network": (
        {**web(networks={"n": {"link_local_ips": ["169.254.1.1"]}}), "networks": {"n": {}}},
        [("policy.foreign-network", "services.web.networks.n.link_local_ips")],
    ),
    "ipam": (
        {**web(networks=["n"]), "networks": {"n": {"ipam": {"config": [{"subnet": SUBNET}]}}}},
        [("policy.foreign-network", "networks.n.ipam")],
    ),
    "volume plugin": (
        {**web(volumes=["vol:/vol"]), "volumes": {"vol": {"driver": "sshfs"}}},
        [("policy.foreign-volume", "volumes.vol.driver")],
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED_CASES))
def test_each_rule_refuses(case: str, tmp_path: Path) -> None:
    compose, expected = REFUSED_CASES[case]
    env = "PLATFORM_PROJECT=shop\nSHOP_TOKEN=s3\n"
    assert check(tmp_path, compose, env) == (1, expected)


@pytest.mark.parametrize(
    "option",
    ["seccomp:unconfined", "seccomp=unconfined", "apparmor:unconfined", "apparmor=unconfined",
     "label:disable", "label=disable", "systempaths=unconfined", "seccomp=/srv/profile.json",
     "writable-cgroups=true", "label=type:spc_t", "label=level:s0:c1,c2", "apparmor=firefox",
     "apparmor=docker-default"],
)  # fmt: skip
def test_security_options_that_loosen_confinement_are_refused(option: str, tmp_path: Path) -> None:
    assert check(tmp_path, web(security_opt=[option])) == (
        1,
        [("policy.security-opt", "services.web.security_opt.0")],
    )


def test_values_are_resolved_as_on_the_host(tmp_path: Path) -> None:
    """`${VAR}` from the release's .env: what validation saw as a variable, the host sees."""
    compose = web(privileged="${PRIV:-false}", volumes=["${DATA}:/data"])
    assert check(tmp_path, compose, "PRIV=true\nDATA=/etc\n") == (
        1,
        [("policy.privileged", "services.web.privileged"),
         ("policy.host-bind-mount", "services.web.volumes.0")],
    )  # fmt: skip


def test_a_variable_only_the_deploy_environment_sets_is_refused(tmp_path: Path) -> None:
    """The deploy exports the registry token: compose would prefer it to a default."""
    compose = web(environment={"A": "${REGISTRY_TOKEN:-none}", "B": "x$${REGISTRY_TOKEN}",
                               "C": "${LOG_LEVEL:-info}", "D": "${SHOP_TOKEN}"})  # fmt: skip
    environ = {"REGISTRY_TOKEN": "registry-secret", "SHOP_TOKEN": "s3"}
    assert check(tmp_path, compose, "SHOP_TOKEN=s3\n", environ=environ) == (
        1,
        [("policy.platform-variable", "services.web.environment.A")],
    )


def test_services_of_every_profile_are_checked(tmp_path: Path) -> None:
    compose = web(profiles=["debug"], privileged=True)
    assert check(tmp_path, compose) == (1, [("policy.privileged", "services.web.privileged")])


def test_a_granted_rule_is_let_through_and_the_others_still_refused(tmp_path: Path) -> None:
    compose = web(privileged=True, cap_add=["NET_ADMIN"])
    options = ("--grant", "policy.privileged")
    assert check(tmp_path, compose, options=options) == (
        1,
        [("policy.capabilities", "services.web.cap_add.0")],
    )


def test_a_network_the_platform_shares_is_let_through(tmp_path: Path) -> None:
    compose = {**web(networks=["edge"]), "networks": {"edge": {"external": True, "name": "edge"}}}
    assert check(tmp_path, compose, options=("--shared-network", "edge")) == (0, [])


def test_what_the_policy_allows(tmp_path: Path) -> None:
    compose = {
        "services": {
            "web": {
                "image": IMAGE,
                "env_file": [".env"],
                "security_opt": ["no-new-privileges:true"],
                "oom_score_adj": 300, "pids_limit": 100, "cpu_shares": 1024,
                "logging": {"driver": "local", "options": {"max-size": "10m"}},
                "post_start": [{"command": ["sh", "-c", "true"], "user": "app"}],
                "deploy": {"resources": {"limits": {"pids": 100, "memory": "1g"}}},
                "x-team": "web",
                "volumes": ["data:/data", {"type": "tmpfs", "target": "/tmp"}, "/cache"],
                "networks": ["back"],
                "ipc": "shareable",
                "secrets": ["token", "bundle"],
                "labels": {
                    # Structure inside values and keys must stay values and keys.
                    'x": true,\n      "privileged': '",\n      "privileged": true,\n',
                    "cap_add": "SYS_ADMIN",
                },
                "environment": {"privileged": "true", "NETWORK": "host"},
            },
            "sidecar": {"image": IMAGE, "network_mode": "service:web", "pid": "service:web"},
        },
        "volumes": {"data": {}, "named": {"name": f"{PROJECT}_named"}},
        "networks": {"back": {"driver": "bridge", "ipam": {"driver": "default"}}},
        "secrets": {"token": {"environment": "SHOP_TOKEN"}, "bundle": {"file": "./.env"}},
        "x-anchors": {"privileged": True},
    }  # fmt: skip
    assert check(tmp_path, compose, "SHOP_TOKEN=s3\n") == (0, [])


def test_unreadable_compose_files_fail_the_check(tmp_path: Path) -> None:
    assert check(tmp_path, web(ports="not a list")) == (1, [])


def test_json_not_in_the_indented_form_fails_the_check(tmp_path: Path) -> None:
    """A `docker` printing JSON in another layout (one line) is refused, not read wrongly."""
    release = tmp_path / "base" / "releases" / "r1"
    release.mkdir(parents=True)
    (release / ".env").write_text("", encoding="utf-8")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "docker").write_text(
        '#!/bin/sh\nprintf \'{"services": {"web": {"privileged": true}}}\\n\'\n', encoding="utf-8"
    )
    (fake / "docker").chmod(0o755)
    done = run_check(
        tmp_path / "base", "r1", (PROJECT, "--", *COMPOSE), path=f"{fake}:/usr/bin:/bin"
    )
    assert done.returncode == 1
    assert REFUSED.search(done.stderr) is None


GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "plans"
TENANT_PLANS = sorted(
    c for c in GOLDEN.glob("*/request.json") if not (c.parent / "error.txt").exists()
)


@pytest.mark.parametrize("case", TENANT_PLANS, ids=[c.parent.name for c in TENANT_PLANS])
def test_the_example_tenants_pass_the_check_of_their_plan(
    case: Path, repo_root: Path, tmp_path: Path
) -> None:
    """The policy step of each example tenant's plan (the golden requests), run on its files."""
    data = json.loads(case.read_text(encoding="utf-8"))
    facts = data.get("facts")
    request = PlanRequest(
        data["project"], data["environment"], datetime.fromisoformat(data["at"]), data["actor"],
        data["platform_sha"], data.get("images", {}),
        ServerFacts.model_validate(facts) if facts is not None else None,
    )  # fmt: skip
    plan = build_plan(load_valid_config(read_sources(repo_root)), request)
    (policy,) = [s for s in plan.steps if s.id == "policy"]
    assert policy.argv[:3] == ("platform_policy_check", plan.base_dir, plan.release)
    base = tmp_path / "base"
    release = base / "releases" / plan.release
    release.mkdir(parents=True)
    for f in plan.files:
        (release / f.path.rsplit("/", 1)[1]).write_text(f.content, encoding="utf-8")
    with (release / ".env").open("a", encoding="utf-8") as env_file:
        env_file.writelines(f"{name}=example-value\n" for name in plan.secrets)
    done = run_check(base, plan.release, policy.argv[3:])
    assert done.returncode == 0, done.stderr


def test_the_host_allows_the_keys_validation_allows() -> None:
    """`platform_policy_allowed` in runtime/policy.sh and config/compose_keys.py: one list."""
    text = runtime_file("policy")
    body = text[text.index("platform_policy_allowed() {") :]
    body = body[: body.index("\n}\n")]
    on_host: dict[str, set[str]] = {}
    for kind, key in re.findall(r"([a-z-]+):([a-z0-9_]+)\b", body.replace("\\\n", " ")):
        on_host.setdefault(kind, set()).add(key)
    assert on_host == {
        "top": set(compose_keys.TOP_LEVEL_KEYS),
        "service": set(compose_keys.SERVICE_KEYS),
        "network": set(compose_keys.NETWORK_KEYS),
        "volume": set(compose_keys.VOLUME_KEYS),
        "secret": set(compose_keys.SECRET_KEYS),
        "config": set(compose_keys.CONFIG_KEYS),
        "hook": set(compose_keys.HOOK_KEYS),
        "service-network": set(compose_keys.SERVICE_NETWORK_KEYS),
    }


def test_a_services_environment_never_reaches_composes_own(tmp_path: Path) -> None:
    """What env.host-variable's hint tells a tenant: a variable under `environment:` goes to
    the container only. Compose acts on COMPOSE_PROFILES from the .env (service c starts), but
    neither on it nor interpolates FOO from a service's `environment:`."""
    compose = {
        "services": {
            "a": {"image": IMAGE, "environment": {"COMPOSE_PROFILES": "extra", "FOO": "bar"}},
            "b": {"image": "busybox:${FOO:-none}"},
            "c": {"image": IMAGE, "profiles": ["extra"]},
        }
    }
    (tmp_path / "docker-compose.yml").write_text(yaml.safe_dump(compose), encoding="utf-8")
    models = []
    for env in ("", "COMPOSE_PROFILES=extra\n"):
        (tmp_path / ".env").write_text(env, encoding="utf-8")
        done = subprocess.run(
            ["docker", "compose", "config", "--format", "json"], cwd=tmp_path, check=True,
            capture_output=True, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                                      "HOME": str(tmp_path)},
        )  # fmt: skip
        models.append(json.loads(done.stdout)["services"])
    assert sorted(models[0]) == ["a", "b"]
    assert models[0]["b"]["image"] == "busybox:none"
    assert sorted(models[1]) == ["a", "b", "c"]
