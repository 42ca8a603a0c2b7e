"""The Compose keys a tenant may use at all: an allow-list, not a list of refusals.

Compose grows a feature every few releases, and some reach the host itself: `provider:` runs a
host binary with the project's environment, `use_api_socket:` hands the container the engine's
socket, `pre_start:` hooks and top-level `jobs:` carry whole container specs. A list of what
to refuse lets each new one through until someone notices; this list lets through only what
the platform has read. Every key here is still subject to the value rules of
config/tenant_policy.py (a listed `privileged` is still refused when true). The host checks
the same lists (`platform_policy_*_key` in planning/runtime/policy.sh; a test keeps the two
equal). `x-` extension keys are allowed everywhere: compose ignores them.
"""

from __future__ import annotations

from typing import Final

SERVICE_KEYS: Final = frozenset(
    {
        "attach", "build", "cap_add", "cap_drop", "cgroup", "cgroup_parent", "command",
        "configs", "container_name", "cpu_period", "cpu_quota", "cpu_shares", "cpus",
        "cpuset", "depends_on", "deploy", "develop", "device_cgroup_rules", "devices", "dns",
        "dns_opt", "dns_search", "domainname", "entrypoint", "env_file", "environment",
        "expose", "extends", "external_links", "extra_hosts", "gpus", "group_add",
        "healthcheck", "hostname", "image", "init", "ipc", "label_file", "labels", "links",
        "logging", "mac_address", "mem_limit", "mem_reservation", "mem_swappiness",
        "memswap_limit", "network_mode", "networks", "oom_kill_disable", "oom_score_adj",
        "pid", "pids_limit", "platform", "ports", "post_start", "pre_stop", "privileged",
        "profiles", "pull_policy", "pull_refresh_after", "read_only", "restart", "runtime",
        "scale", "secrets", "security_opt", "shm_size", "stdin_open", "stop_grace_period",
        "stop_signal", "sysctls", "tmpfs", "tty", "ulimits", "umask", "use_api_socket", "user",
        "userns_mode", "uts", "volumes", "volumes_from", "working_dir",
    }
)  # fmt: skip
"""A service's keys. Left out: `provider`, `models`, `pre_start` (see above); `annotations`
(read by some OCI runtimes as settings); `blkio_config`, `cpu_rt_period`, `cpu_rt_runtime`
(block-device throttles, real-time scheduling); `storage_opt`; the Windows-only
`cpu_count`, `cpu_percent`, `credential_spec`, `isolation`."""

TOP_LEVEL_KEYS: Final = frozenset(
    {"configs", "include", "name", "networks", "secrets", "services", "version", "volumes"}
)
"""A compose file's keys. Left out: `jobs` and `models`."""

NETWORK_KEYS: Final = frozenset(
    {"attachable", "driver", "driver_opts", "enable_ipv4", "enable_ipv6", "external",
     "internal", "ipam", "labels", "name"}
)  # fmt: skip
VOLUME_KEYS: Final = frozenset({"driver", "driver_opts", "external", "labels", "name"})
SECRET_KEYS: Final = frozenset({"environment", "external", "file", "labels", "name"})
"""A top-level secret's or config's keys (and `content` for a config). Left out: the Swarm
`driver`, `driver_opts` and `template_driver`."""
CONFIG_KEYS: Final = SECRET_KEYS | {"content"}
HOOK_KEYS: Final = frozenset({"command", "environment", "privileged", "user", "working_dir"})
"""A `post_start`/`pre_stop` hook's keys (`privileged` refused when true)."""
SERVICE_NETWORK_KEYS: Final = frozenset(
    {"aliases", "gw_priority", "interface_name", "ipv4_address", "ipv6_address", "priority",
     "use_service_name_alias"}
)  # fmt: skip
"""A service's entry under `networks:`. Left out: `mac_address`, `link_local_ips` and
`driver_opts` (another container's address on a shared segment, the host's interfaces)."""

LOG_DRIVERS: Final = frozenset({"json-file", "local"})
"""Logging drivers a tenant may pick: the engine writes those to the host's disk, rotated.
The others (syslog, gelf, fluentd, splunk, awslogs, ...) make the engine itself connect where
the options say, from the host's network, past every container network."""


def unknown(keys: object, allowed: frozenset[str]) -> list[str]:
    """The keys of a mapping that are neither allowed nor `x-` extensions, in file order."""
    if not isinstance(keys, dict):
        return []
    return [str(k) for k in keys if str(k) not in allowed and not str(k).startswith("x-")]
