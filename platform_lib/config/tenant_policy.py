"""The tenant security policy: what a tenant's compose file may ask of a shared Docker host.

A tenant's config is written by a team that must never reach the host, another tenant or the
platform's credentials. Everything that would (host namespaces, privileges, host paths, the
Docker socket, other projects' volumes, networks and containers) is refused here, per
environment, after the env file's values are put in: a setting made through a variable the
platform cannot see (a secret, the host's own environment) cannot be checked, so it is refused
too. `grants:` in configs/platform.yml may allow one rule for one named tenant, with a reason
(config/grants.py). The host runtime checks the resolved config again before anything starts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Set
from dataclasses import dataclass
from typing import Any, Final, get_args

from platform_lib.config import compose_keys
from platform_lib.config.interpolation import (
    InterpolationSyntaxError,
    MissingVariable,
    find_references,
    substitute,
)
from platform_lib.models.settings import PolicyRule

HOST_NAMESPACE_KEYS: Final = ("network_mode", "pid", "ipc", "userns_mode", "uts", "cgroup")
SOCKETS: Final = re.compile(r"(^|/)(docker|containerd|podman|crio|dockershim)\.sock$")
RESERVED_LABELS: Final = ("com.docker.", "io.github.multi-tenant-platform")
SHIPPED_ENV_FILES: Final = frozenset({".env", "./.env"})

RULES: Final = get_args(PolicyRule)
"""Every rule a grant may name."""


@dataclass(frozen=True)
class Finding:
    """One breach of the policy. `service` is None for top-level volumes, networks, secrets."""

    path: tuple[object, ...]
    rule: str
    message: str
    hint: str
    service: str | None


class Unresolved:
    """A value set through a variable the platform does not know."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names


def resolve(value: Any, variables: Mapping[str, str]) -> Any:
    """`value` with the env file's variables put in, or Unresolved when it names any other
    variable: compose on the host would take that one from wherever it finds it."""
    if not isinstance(value, str) or "$" not in value:
        return value
    try:
        names = tuple(ref.name for ref in find_references(value))
        unknown = tuple(n for n in names if n not in variables)
        if unknown:
            return Unresolved(unknown)
        return substitute(value, variables)
    except (InterpolationSyntaxError, MissingVariable):
        return Unresolved(())  # compose.interpolation-syntax / unresolved-variable say why


class _Checker:
    def __init__(self, variables: Mapping[str, str], shared_networks: Set[str]) -> None:
        self.variables = variables
        self.shared_networks = shared_networks
        self.found: list[Finding] = []

    def add(
        self, path: tuple[object, ...], rule: str, message: str, hint: str, service: str | None
    ) -> None:
        self.found.append(Finding(path, rule, message, hint, service))

    def unsupported(self, path: tuple[object, ...], what: str, service: str | None) -> None:
        self.add(
            path,
            "policy.unsupported-key",
            f"{what} is not a Compose feature the platform allows on its shared hosts",
            "remove it; config/compose_keys.py lists what a tenant may use, and the platform "
            "maintainers add a feature there once they know what it does to a shared host",
            service,
        )

    def value(self, raw: Any, path: tuple[object, ...], what: str, service: str | None) -> Any:
        """The resolved value of a setting, or None (and a finding) if it cannot be checked."""
        resolved = resolve(raw, self.variables)
        if not isinstance(resolved, Unresolved):
            return resolved
        names = ", ".join(f"${{{n}}}" for n in resolved.names) or "a variable"
        self.add(
            path,
            "policy.unchecked-variable",
            f"{what} is set through {names}, which the platform cannot check",
            "write the value itself, or set the variable in the env file",
            service,
        )
        return None


def policy_findings(
    data: Any, variables: Mapping[str, str], shared_networks: Set[str]
) -> list[Finding]:
    """Every breach in one compose document (already valid against the Compose schema),
    with `variables` (one environment's env file) put in."""
    if not isinstance(data, dict):
        return []
    check = _Checker(variables, shared_networks)
    for key in compose_keys.unknown(data, compose_keys.TOP_LEVEL_KEYS):
        check.unsupported((key,), f"the top-level {key}:", None)
    for name, service in _mapping(data.get("services")):
        if isinstance(service, dict):
            _service(check, str(name), service)
    for key, spec in _mapping(data.get("volumes")):
        _top_volume(check, str(key), spec)
    for key, spec in _mapping(data.get("networks")):
        _top_network(check, str(key), spec)
    for section in ("secrets", "configs"):
        for key, spec in _mapping(data.get(section)):
            _top_file(check, section, str(key), spec)
    if "include" in data:
        check.add(
            ("include",),
            "policy.host-file",
            "include: reads other compose files, which a release does not ship",
            "put everything in this docker-compose.yml",
            None,
        )
    return check.found


def _mapping(value: Any) -> Iterator[tuple[Any, Any]]:
    return iter(value.items()) if isinstance(value, dict) else iter(())


def _service(check: _Checker, name: str, service: dict[str, Any]) -> None:
    at: tuple[object, ...] = ("services", name)
    for key in compose_keys.unknown(service, compose_keys.SERVICE_KEYS):
        check.unsupported((*at, key), f"service {name!r} sets {key}:, which", name)
    _engine_access(check, name, at, service)
    _resources(check, name, at, service)
    _logging(check, name, at, service.get("logging"))
    _service_networks(check, name, at, service)
    for hook in ("post_start", "pre_stop"):
        for index, entry in enumerate(service.get(hook) or []):
            _hook(check, name, (*at, hook, index), entry)
    if "privileged" in service:
        value = check.value(service["privileged"], (*at, "privileged"), "privileged", name)
        if _is_set(value):
            check.add(
                (*at, "privileged"),
                "policy.privileged",
                f"service {name!r} runs privileged: that is root on the host",
                "remove privileged:; add the one capability it needs, or ask the "
                "platform maintainers for a grant",
                name,
            )
    for index, cap in enumerate(service.get("cap_add") or []):
        value = check.value(cap, (*at, "cap_add", index), "cap_add", name)
        if value is not None:
            check.add(
                (*at, "cap_add", index),
                "policy.capabilities",
                f"service {name!r} adds the capability {value}",
                "tenants get Docker's default capabilities, and the host refuses any "
                "cap_add; remove it, or ask the platform maintainers for a grant",
                name,
            )
    for index, option in enumerate(service.get("security_opt") or []):
        value = check.value(option, (*at, "security_opt", index), "security_opt", name)
        if value is not None and not _safe_security_opt(str(value)):
            check.add(
                (*at, "security_opt", index),
                "policy.security-opt",
                f"service {name!r} sets security_opt {value!r}",
                "only no-new-privileges:true is allowed; seccomp, AppArmor and SELinux "
                "stay as the host configures them (a profile of its own needs a grant)",
                name,
            )
    for key in HOST_NAMESPACE_KEYS:
        if key in service:
            _namespace(check, name, key, check.value(service[key], (*at, key), key, name))
    for key in ("devices", "device_cgroup_rules", "gpus"):
        if service.get(key):
            check.add(
                (*at, key),
                "policy.devices",
                f"service {name!r} asks for host devices ({key})",
                "tenants get no host devices; ask the platform maintainers for a grant",
                name,
            )
    reservations = ((service.get("deploy") or {}).get("resources") or {}).get("reservations")
    if isinstance(reservations, dict) and reservations.get("devices"):
        check.add(
            (*at, "deploy", "resources", "reservations", "devices"),
            "policy.devices",
            f"service {name!r} reserves host devices (deploy.resources.reservations.devices)",
            "tenants get no host devices; ask the platform maintainers for a grant",
            name,
        )
    if "cgroup_parent" in service:
        check.add(
            (*at, "cgroup_parent"),
            "policy.cgroup-parent",
            f"service {name!r} sets cgroup_parent: it would leave the host's limits",
            "remove cgroup_parent",
            name,
        )
    for index, entry in enumerate(service.get("volumes") or []):
        _service_volume(check, name, (*at, "volumes", index), entry)
    for index, entry in enumerate(service.get("volumes_from") or []):
        value = check.value(entry, (*at, "volumes_from", index), "volumes_from", name)
        if isinstance(value, str) and value.startswith("container:"):
            check.add(
                (*at, "volumes_from", index),
                "policy.foreign-volume",
                f"service {name!r} mounts the volumes of container {value[10:]!r}",
                "use volumes_from: with a service of this compose file",
                name,
            )
    _env_files(check, name, at, service.get("env_file"))
    _labels(check, name, (*at, "labels"), service.get("labels"))
    extends = service.get("extends")
    if isinstance(extends, dict) and "file" in extends:
        check.add(
            (*at, "extends", "file"),
            "policy.host-file",
            f"service {name!r} extends a service of another file, which a release does not ship",
            "copy what it needs into this docker-compose.yml",
            name,
        )


def _is_set(value: Any) -> bool:
    """A boolean setting is on: anything but absent, false or "false" (as compose reads it)."""
    return value is not None and value is not False and str(value).lower() != "false"


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def _engine_access(check: _Checker, name: str, at: tuple[object, ...], svc: dict[str, Any]) -> None:
    """Settings that hand the container the engine, another runtime, or someone else's place."""
    if "use_api_socket" in svc:
        value = check.value(svc["use_api_socket"], (*at, "use_api_socket"), "use_api_socket", name)
        if _is_set(value):
            check.add(
                (*at, "use_api_socket"),
                "policy.docker-socket",
                f"service {name!r} sets use_api_socket: the container gets the engine's "
                "socket (and the deploy's registry credentials): that is root on the host",
                "remove use_api_socket; a tool that needs the Docker API needs a grant from "
                "the platform maintainers",
                name,
            )
    if "runtime" in svc:
        check.add(
            (*at, "runtime"),
            "policy.runtime",
            f"service {name!r} picks the container runtime ({svc['runtime']!r})",
            "remove runtime: tenants run on the host's default runtime; another one (a GPU "
            "runtime, a sandbox) needs a grant from the platform maintainers",
            name,
        )
    if svc.get("external_links"):
        check.add(
            (*at, "external_links"),
            "policy.foreign-network",
            f"service {name!r} links containers outside its project (external_links)",
            "reach other services through the proxy, or a network configs/platform.yml shares",
            name,
        )
    if "label_file" in svc:
        check.add(
            (*at, "label_file"),
            "policy.host-file",
            f"service {name!r} reads labels from a file (label_file), which a release does "
            "not ship",
            "write the labels under labels:",
            name,
        )
    if "mac_address" in svc:
        check.add(
            (*at, "mac_address"),
            "policy.foreign-network",
            f"service {name!r} sets its MAC address: it could take another container's on a "
            "shared network",
            "remove mac_address: the engine gives each container its own",
            name,
        )


def _below_zero(value: Any) -> bool:
    number = _number(value)
    return number is None or number < 0


def _unlimited(value: Any) -> bool:
    number = _number(value)
    return number is None or number <= 0


def _over_a_share(value: Any) -> bool:
    number = _number(value)
    return number is None or number > 1024


EXEMPTIONS: Final[dict[str, tuple[Callable[[Any], bool], str]]] = {
    "oom_score_adj": (_below_zero, "makes the out-of-memory killer take other processes first"),
    "oom_kill_disable": (_is_set, "exempts it from the out-of-memory killer"),
    "pids_limit": (_unlimited, "lifts the limit on its processes"),
    "cpu_shares": (_over_a_share, "gives it more than a container's share of the CPUs (1024)"),
    "pids": (_unlimited, "lifts the limit on its processes"),  # deploy.resources.limits
}
"""Settings that exempt a container from the host's fair share, each with the values that do
(a value that is no number does too) and what it does then."""


def _resources(check: _Checker, name: str, at: tuple[object, ...], svc: dict[str, Any]) -> None:
    """Settings that exempt a container from the host's fair share: the out-of-memory killer
    would take other tenants' processes first, or one container could fork without bound."""
    limits = ((svc.get("deploy") or {}).get("resources") or {}).get("limits")
    settings = [((*at, key), key, svc[key]) for key in EXEMPTIONS if key in svc and key != "pids"]
    if isinstance(limits, dict) and "pids" in limits:
        settings.append(((*at, "deploy", "resources", "limits", "pids"), "pids", limits["pids"]))
    for path, key, raw in settings:
        value = check.value(raw, path, key, name)
        exempts, breach = EXEMPTIONS[key]
        if value is not None and exempts(value):
            check.add(
                path,
                "policy.resources",
                f"service {name!r} sets {key}: {value!r}, which {breach}",
                "remove it (limits that only lower a container's share are fine: "
                "mem_limit, cpus, a positive pids_limit, oom_score_adj of 0 or more), or "
                "ask the platform maintainers for a grant",
                name,
            )


def _logging(check: _Checker, name: str, at: tuple[object, ...], logging: Any) -> None:
    if not isinstance(logging, dict) or "driver" not in logging:
        return
    driver = check.value(logging["driver"], (*at, "logging", "driver"), "the logging driver", name)
    if driver is not None and str(driver) not in compose_keys.LOG_DRIVERS:
        check.add(
            (*at, "logging", "driver"),
            "policy.log-driver",
            f"service {name!r} logs through the {driver!r} driver: the engine itself would "
            "connect where its options say, from the host",
            "use json-file or local (the default), and ship logs from inside the tenant's "
            "own project; or ask the platform maintainers for a grant",
            name,
        )


def _service_networks(
    check: _Checker, name: str, at: tuple[object, ...], svc: dict[str, Any]
) -> None:
    for network, entry in _mapping(svc.get("networks")):
        for key in compose_keys.unknown(entry, compose_keys.SERVICE_NETWORK_KEYS):
            check.add(
                (*at, "networks", network, key),
                "policy.foreign-network",
                f"service {name!r} sets {key} on network {network!r}: another container's "
                "address on a shared segment, or the host's interfaces",
                f"remove {key}: the engine gives each container its own addresses",
                name,
            )


def _hook(check: _Checker, name: str, path: tuple[object, ...], hook: Any) -> None:
    for key in compose_keys.unknown(hook, compose_keys.HOOK_KEYS):
        check.unsupported((*path, key), f"a {path[-2]} hook's {key}:", name)
    if isinstance(hook, dict) and "privileged" in hook:
        value = check.value(hook["privileged"], (*path, "privileged"), "privileged", name)
        if _is_set(value):
            check.add(
                (*path, "privileged"),
                "policy.privileged",
                f"a {path[-2]} hook of service {name!r} runs privileged: every capability",
                "remove privileged: from the hook",
                name,
            )


def _safe_security_opt(option: str) -> bool:
    """Only `no-new-privileges`, which tightens. A named AppArmor profile may be one the host
    ships unconfined, an SELinux type (`spc_t`) or level another tenant's category."""
    parts = re.split(r"[:=]", option, maxsplit=1)
    key, value = parts[0], parts[1] if len(parts) > 1 else ""
    return key == "no-new-privileges" and value in ("", "true")


def _namespace(check: _Checker, name: str, key: str, value: Any) -> None:
    if value is None:
        return
    text = str(value)
    path = ("services", name, key)
    if text == "host":
        check.add(
            path,
            "policy.host-namespace",
            f"service {name!r} shares the host's {key.removesuffix('_mode')} namespace",
            f"remove {key}: the container gets a namespace of its own",
            name,
        )
    elif text.startswith("container:"):
        check.add(
            path,
            "policy.host-namespace",
            f"service {name!r} joins the {key} namespace of container {text[10:]!r}",
            f"use {key}: service:<name> with a service of this compose file",
            name,
        )
    elif key == "network_mode" and text in ("bridge", "default"):
        check.add(
            path,
            "policy.foreign-network",
            f"service {name!r} joins Docker's default bridge, which every project on "
            "the host can reach",
            "remove network_mode: compose puts the service on its project's own network",
            name,
        )


def _service_volume(check: _Checker, name: str, path: tuple[object, ...], entry: Any) -> None:
    if isinstance(entry, str):
        value = check.value(entry, path, "a volume", name)
        if not isinstance(value, str):
            return
        source = value.split(":", 1)[0] if ":" in value else ""
        bind = source.startswith(("/", ".", "~"))
    elif isinstance(entry, dict):
        kind = entry.get("type")
        raw = entry.get("source")
        value = check.value(raw, (*path, "source"), "a volume's source", name) if raw else None
        source = str(value) if value is not None else ""
        bind = kind == "bind"
        path = (*path, "source") if raw else path
    else:
        return
    if not bind:
        return
    _bind_mount(check, name, path, source)


def _bind_mount(check: _Checker, name: str, path: tuple[object, ...], source: str) -> None:
    if SOCKETS.search(source.rstrip("/")):
        check.add(
            path,
            "policy.docker-socket",
            f"service {name!r} mounts the container engine's socket {source!r}: that is "
            "root on the host, even read-only",
            "remove the mount; a tool that needs "
            "the Docker API needs a grant from the platform maintainers",
            name,
        )
    elif source.startswith(("/", "~")):
        check.add(
            path,
            "policy.host-bind-mount",
            f"service {name!r} mounts the host path {source!r}",
            "use a named volume (declared under the top-level volumes:); host paths "
            "belong to the host and to other tenants",
            name,
        )
    else:
        check.add(
            path,
            "policy.host-bind-mount",
            f"service {name!r} bind-mounts {source!r} from the release directory: data "
            "written there starts empty on every deploy and is deleted when old "
            "releases are pruned",
            "use a named volume (declared under the top-level "
            "volumes:); it survives every deploy and rollback",
            name,
        )


def _env_files(check: _Checker, name: str, at: tuple[object, ...], env_file: Any) -> None:
    entries = [env_file] if isinstance(env_file, str) else env_file or []
    for index, entry in enumerate(entries):
        raw = entry.get("path") if isinstance(entry, dict) else entry
        path = (*at, "env_file") if isinstance(env_file, str) else (*at, "env_file", index)
        value = check.value(raw, path, "env_file", name)
        if isinstance(value, str) and value not in SHIPPED_ENV_FILES:
            check.add(
                path,
                "policy.host-file",
                f"service {name!r} reads the env file {value!r}, which a release does not ship",
                "use env_file: .env (the release's env file: the "
                "environment's .env.<environment> with the platform's variables and "
                "the secrets), or environment:",
                name,
            )


def _labels(check: _Checker, owner: str | None, path: tuple[object, ...], labels: Any) -> None:
    keys: list[tuple[object, str]] = []
    if isinstance(labels, dict):
        keys = [(str(k), str(k)) for k in labels]
    elif isinstance(labels, list):
        keys = [(i, str(item).split("=", 1)[0]) for i, item in enumerate(labels)]
    for where, key in keys:
        if key.startswith(RESERVED_LABELS):
            check.add(
                (*path, where),
                "policy.reserved-label",
                f"label {key!r} belongs to Docker Compose or the platform: it would make "
                "containers pass for another project's",
                "name your labels with a prefix of your own",
                owner,
            )


def _top_volume(check: _Checker, key: str, spec: Any) -> None:
    if not isinstance(spec, dict):
        return
    at: tuple[object, ...] = ("volumes", key)
    for unknown in compose_keys.unknown(spec, compose_keys.VOLUME_KEYS):
        check.unsupported((*at, unknown), f"volume {key!r}'s {unknown}:", None)
    driver = check.value(spec.get("driver"), (*at, "driver"), f"volume {key!r}'s driver", None)
    if driver is not None and str(driver) != "local":
        check.add(
            (*at, "driver"),
            "policy.foreign-volume",
            f"volume {key!r} uses the {driver!r} volume driver: a plugin of the host's, "
            "whose storage may be shared or the host's own",
            "remove driver: (a local volume of the project's own)",
            None,
        )
    if spec.get("external") or "name" in spec:
        field = "external" if spec.get("external") else "name"
        check.add(
            (*at, field),
            "policy.foreign-volume",
            f"volume {key!r} names a volume outside the project ({field}:): it may be "
            "another tenant's data",
            "remove external: and name:; compose names the "
            "volume after the tenant's project and environment",
            None,
        )
    options = spec.get("driver_opts")
    if isinstance(options, dict) and ({"device", "o"} & set(options)):
        check.add(
            (*at, "driver_opts"),
            "policy.host-bind-mount",
            f"volume {key!r} mounts a host device or path through driver_opts",
            "remove driver_opts: a plain named volume is enough",
            None,
        )
    _labels(check, None, (*at, "labels"), spec.get("labels"))


def _top_network(check: _Checker, key: str, spec: Any) -> None:
    if not isinstance(spec, dict):
        return
    at: tuple[object, ...] = ("networks", key)
    for unknown in compose_keys.unknown(spec, compose_keys.NETWORK_KEYS):
        check.unsupported((*at, unknown), f"network {key!r}'s {unknown}:", None)
    ipam = spec.get("ipam")
    if isinstance(ipam, dict) and any(k != "driver" or v != "default" for k, v in ipam.items()):
        check.add(
            (*at, "ipam"),
            "policy.foreign-network",
            f"network {key!r} picks its own addresses (ipam): a subnet the host routes to "
            "its bridge, the host's own LAN or metadata addresses included",
            "remove ipam: the engine gives each network a free subnet of its pools",
            None,
        )
    driver = spec.get("driver")
    if driver in ("host", "none"):
        check.add(
            (*at, "driver"),
            "policy.host-namespace",
            f"network {key!r} uses the {driver!r} driver",
            "remove driver: (a bridge network of the project's own)",
            None,
        )
    elif driver is not None and driver not in ("bridge", "overlay"):
        # macvlan, ipvlan, plugins: a network on the host's own segment or the host's config.
        check.add(
            (*at, "driver"),
            "policy.foreign-network",
            f"network {key!r} uses the {driver!r} driver, which reaches past the project",
            "remove driver: (a bridge network of the project's own)",
            None,
        )
    if isinstance(spec.get("driver_opts"), dict) and spec["driver_opts"]:
        check.add(
            (*at, "driver_opts"),
            "policy.foreign-network",
            f"network {key!r} sets driver options (the host's interfaces, bridges or MTU)",
            "remove driver_opts: a plain bridge network of the project's own is enough",
            None,
        )
    if spec.get("external") or "name" in spec:
        real = check.value(spec.get("name", key), (*at, "name"), f"network {key!r}", None)
        if real is not None and str(real) not in check.shared_networks:
            field = "name" if "name" in spec else "external"
            shared = ", ".join(sorted(check.shared_networks)) or "none"
            check.add(
                (*at, field),
                "policy.foreign-network",
                f"network {key!r} joins {str(real)!r}, a network outside the project "
                "that the platform does not declare shared",
                f"use the project's own networks, or one of the shared networks of "
                f"configs/platform.yml (shared_networks: {shared})",
                None,
            )
    _labels(check, None, (*at, "labels"), spec.get("labels"))


def _top_file(check: _Checker, section: str, key: str, spec: Any) -> None:
    if not isinstance(spec, dict):
        return
    at: tuple[object, ...] = (section, key)
    allowed = compose_keys.CONFIG_KEYS if section == "configs" else compose_keys.SECRET_KEYS
    for unknown in compose_keys.unknown(spec, allowed):
        check.unsupported((*at, unknown), f"{section[:-1]} {key!r}'s {unknown}:", None)
    if "file" in spec:
        check.add(
            (*at, "file"),
            "policy.host-file",
            f"{section[:-1]} {key!r} reads a file ({spec['file']!r}) that a release "
            "does not ship, from the host",
            f"use {section}: {key}: environment: NAME with a secret of the tenant's, or content:",
            None,
        )
    if spec.get("external") or "name" in spec:
        check.add(
            (*at, "external" if spec.get("external") else "name"),
            "policy.host-file",
            f"{section[:-1]} {key!r} names one outside the project",
            f"declare the {section[:-1]} with environment: or content:",
            None,
        )
