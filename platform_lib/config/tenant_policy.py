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
from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass
from typing import Any, Final, get_args

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


class _Unresolved:
    """A value set through a variable the platform does not know."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names


def resolve(value: Any, variables: Mapping[str, str]) -> Any:
    """`value` with the env file's variables put in, or _Unresolved when it names any other
    variable: compose on the host would take that one from wherever it finds it."""
    if not isinstance(value, str) or "$" not in value:
        return value
    try:
        names = tuple(ref.name for ref in find_references(value))
        unknown = tuple(n for n in names if n not in variables)
        if unknown:
            return _Unresolved(unknown)
        return substitute(value, variables)
    except (InterpolationSyntaxError, MissingVariable):
        return _Unresolved(())  # compose.interpolation-syntax / unresolved-variable say why


class _Checker:
    def __init__(self, variables: Mapping[str, str], shared_networks: Set[str]) -> None:
        self.variables = variables
        self.shared_networks = shared_networks
        self.found: list[Finding] = []

    def add(
        self, path: tuple[object, ...], rule: str, message: str, hint: str, service: str | None
    ) -> None:
        self.found.append(Finding(path, rule, message, hint, service))

    def value(self, raw: Any, path: tuple[object, ...], what: str, service: str | None) -> Any:
        """The resolved value of a setting, or None (and a finding) if it cannot be checked."""
        resolved = resolve(raw, self.variables)
        if not isinstance(resolved, _Unresolved):
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
    if "privileged" in service:
        value = check.value(service["privileged"], (*at, "privileged"), "privileged", name)
        if value is not None and value is not False and str(value).lower() != "false":
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
                "only no-new-privileges:true and SELinux labels are allowed; seccomp "
                "and AppArmor stay as the host configures them",
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


def _safe_security_opt(option: str) -> bool:
    parts = re.split(r"[:=]", option, maxsplit=1)
    key, value = parts[0], parts[1] if len(parts) > 1 else ""
    if key == "no-new-privileges":
        return value in ("", "true")
    if key == "label":
        return value.split(":", 1)[0].split("=", 1)[0] in ("user", "role", "type", "level")
    return key == "apparmor" and value not in ("", "unconfined")


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
