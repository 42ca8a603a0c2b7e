"""The tenant security policy and the platform's credentials: one test per rule with its exact
location, message and hint; grants (granted, not granted, stale); what a plan carries; and
tenant secrets read per tenant."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from paiss_tree import ANCHOR, BASE, COMPOSE, ENV, PLATFORM, PROJECT

from platform_lib.config.credentials import tenant_secret_variable
from platform_lib.config.validate import load_valid_config, validate_sources
from platform_lib.errors import Location, PlanError, PlatformError, Problem
from platform_lib.execution.apply import gather_secrets
from platform_lib.github.gates import required_approvals
from platform_lib.planning.builder import PlanRequest, build_plan

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def grant_hint(rule: str) -> str:
    return (
        f" (a grant in configs/platform.yml: grants: with project: paiss, rule: {rule} and a "
        "reason)"
    )


def sources(compose_extra: str = "", top: str = "", **files: str) -> dict[str, str]:
    tree = dict(BASE)
    tree[COMPOSE] = BASE[COMPOSE].replace(ANCHOR, ANCHOR + compose_extra) + top
    for path, text in files.items():
        tree[path.replace("__", "/").replace("_DOT_", ".")] = text
    return tree


def request(project: str, images: dict[str, str]) -> PlanRequest:
    return PlanRequest(project=project, environment="staging", now=NOW, actor="alice",
                       platform_sha="", images=images)  # fmt: skip


def problems_of(tree: dict[str, str]) -> list[Problem]:
    return validate_sources(tree)[1]


def only(tree: dict[str, str]) -> Problem:
    found = problems_of(tree)
    assert len(found) == 1, found
    return found[0]


def at(line: int, column: int, pointer: str, file: str = COMPOSE) -> Location:
    return Location(file, line, column, pointer)


SECURITY_OPT_HINT = (
    "only no-new-privileges:true is allowed; seccomp, AppArmor and SELinux stay as the host "
    "configures them (a profile of its own needs a grant)"
)
UNSUPPORTED_HINT = (
    "remove it; config/compose_keys.py lists what a tenant may use, and the platform "
    "maintainers add a feature there once they know what it does to a shared host"
)
RESOURCES_HINT = (
    "remove it (limits that only lower a container's share are fine: mem_limit, cpus, a "
    "positive pids_limit, oom_score_adj of 0 or more), or ask the platform maintainers for a "
    "grant"
)

# (compose addition, top-level addition, location, rule, message, hint without the grant part)
CASES = {
    "privileged": (
        "    privileged: true\n",
        "",
        at(5, 5, "/services/web/privileged"),
        "policy.privileged",
        "service 'web' runs privileged: that is root on the host",
        "remove privileged:; add the one capability it needs, or ask the platform maintainers "
        "for a grant",
    ),
    "capabilities": (
        "    cap_add: [SYS_ADMIN]\n",
        "",
        at(5, 15, "/services/web/cap_add/0"),
        "policy.capabilities",
        "service 'web' adds the capability SYS_ADMIN",
        "tenants get Docker's default capabilities, and the host refuses any cap_add; remove "
        "it, or ask the platform maintainers for a grant",
    ),
    "security-opt": (
        "    security_opt: [apparmor:unconfined]\n",
        "",
        at(5, 20, "/services/web/security_opt/0"),
        "policy.security-opt",
        "service 'web' sets security_opt 'apparmor:unconfined'",
        SECURITY_OPT_HINT,
    ),
    "security-opt-selinux-type": (  # spc_t: SELinux's unconfined container type
        "    security_opt: ['label=type:spc_t']\n",
        "",
        at(5, 20, "/services/web/security_opt/0"),
        "policy.security-opt",
        "service 'web' sets security_opt 'label=type:spc_t'",
        SECURITY_OPT_HINT,
    ),
    "security-opt-apparmor-profile": (  # a host profile may be flags=(unconfined)
        "    security_opt: ['apparmor=firefox']\n",
        "",
        at(5, 20, "/services/web/security_opt/0"),
        "policy.security-opt",
        "service 'web' sets security_opt 'apparmor=firefox'",
        SECURITY_OPT_HINT,
    ),
    "provider": (  # compose runs the provider's binary on the host
        "    provider: {type: bash}\n",
        "",
        at(5, 5, "/services/web/provider"),
        "policy.unsupported-key",
        "service 'web' sets provider:, which is not a Compose feature the platform allows on "
        "its shared hosts",
        UNSUPPORTED_HINT,
    ),
    "top-level-models": (
        "",
        "models:\n  llm: {model: ai/smollm2}\n",
        at(10, 1, "/models"),
        "policy.unsupported-key",
        "the top-level models: is not a Compose feature the platform allows on its shared hosts",
        UNSUPPORTED_HINT,
    ),
    "use-api-socket": (
        "    use_api_socket: true\n",
        "",
        at(5, 5, "/services/web/use_api_socket"),
        "policy.docker-socket",
        "service 'web' sets use_api_socket: the container gets the engine's socket (and the "
        "deploy's registry credentials): that is root on the host",
        "remove use_api_socket; a tool that needs the Docker API needs a grant from the "
        "platform maintainers",
    ),
    "privileged-hook": (
        "    post_start: [{command: [sh, -c, id], user: root, privileged: true}]\n",
        "",
        at(5, 54, "/services/web/post_start/0/privileged"),
        "policy.privileged",
        "a post_start hook of service 'web' runs privileged: every capability",
        "remove privileged: from the hook",
    ),
    "runtime": (
        "    runtime: runc-unsafe\n",
        "",
        at(5, 5, "/services/web/runtime"),
        "policy.runtime",
        "service 'web' picks the container runtime ('runc-unsafe')",
        "remove runtime: tenants run on the host's default runtime; another one (a GPU "
        "runtime, a sandbox) needs a grant from the platform maintainers",
    ),
    "oom-score": (
        "    oom_score_adj: -1000\n",
        "",
        at(5, 5, "/services/web/oom_score_adj"),
        "policy.resources",
        "service 'web' sets oom_score_adj: -1000, which makes the out-of-memory killer take "
        "other processes first",
        RESOURCES_HINT,
    ),
    "pids-unlimited": (
        "    deploy: {resources: {limits: {pids: -1}}}\n",
        "",
        at(5, 35, "/services/web/deploy/resources/limits/pids"),
        "policy.resources",
        "service 'web' sets pids: -1, which lifts the limit on its processes",
        RESOURCES_HINT,
    ),
    "log-driver": (
        "    logging: {driver: syslog, options: {syslog-address: 'tcp://10.0.0.1:514'}}\n",
        "",
        at(5, 15, "/services/web/logging/driver"),
        "policy.log-driver",
        "service 'web' logs through the 'syslog' driver: the engine itself would connect "
        "where its options say, from the host",
        "use json-file or local (the default), and ship logs from inside the tenant's own "
        "project; or ask the platform maintainers for a grant",
    ),
    "mac-address": (
        "    networks: {default: {mac_address: '02:42:ac:11:00:02'}}\n",
        "",
        at(5, 26, "/services/web/networks/default/mac_address"),
        "policy.foreign-network",
        "service 'web' sets mac_address on network 'default': another container's address "
        "on a shared segment, or the host's interfaces",
        "remove mac_address: the engine gives each container its own addresses",
    ),
    "ipam": (
        "",
        "networks:\n  grab:\n    ipam: {config: [{subnet: 169.254.169.0/24}]}\n",
        at(12, 5, "/networks/grab/ipam"),
        "policy.foreign-network",
        "network 'grab' picks its own addresses (ipam): a subnet the host routes to its "
        "bridge, the host's own LAN or metadata addresses included",
        "remove ipam: the engine gives each network a free subnet of its pools",
    ),
    "volume-driver": (
        "",
        "volumes:\n  data:\n    driver: sshfs\n",
        at(12, 5, "/volumes/data/driver"),
        "policy.foreign-volume",
        "volume 'data' uses the 'sshfs' volume driver: a plugin of the host's, whose storage "
        "may be shared or the host's own",
        "remove driver: (a local volume of the project's own)",
    ),
    "host-network": (
        "    network_mode: host\n",
        "",
        at(5, 5, "/services/web/network_mode"),
        "policy.host-namespace",
        "service 'web' shares the host's network namespace",
        "remove network_mode: the container gets a namespace of its own",
    ),
    "host-ipc": (
        "    ipc: host\n",
        "",
        at(5, 5, "/services/web/ipc"),
        "policy.host-namespace",
        "service 'web' shares the host's ipc namespace",
        "remove ipc: the container gets a namespace of its own",
    ),
    "userns": (
        "    userns_mode: host\n",
        "",
        at(5, 5, "/services/web/userns_mode"),
        "policy.host-namespace",
        "service 'web' shares the host's userns namespace",
        "remove userns_mode: the container gets a namespace of its own",
    ),
    "container-namespace": (
        "    pid: container:filter-ical-production-db-1\n",
        "",
        at(5, 5, "/services/web/pid"),
        "policy.host-namespace",
        "service 'web' joins the pid namespace of container 'filter-ical-production-db-1'",
        "use pid: service:<name> with a service of this compose file",
    ),
    "default-bridge": (
        "    network_mode: bridge\n",
        "",
        at(5, 5, "/services/web/network_mode"),
        "policy.foreign-network",
        "service 'web' joins Docker's default bridge, which every project on the host can reach",
        "remove network_mode: compose puts the service on its project's own network",
    ),
    "devices": (
        "    devices: [/dev/sda:/dev/sda]\n",
        "",
        at(5, 5, "/services/web/devices"),
        "policy.devices",
        "service 'web' asks for host devices (devices)",
        "tenants get no host devices; ask the platform maintainers for a grant",
    ),
    "cgroup-parent": (
        "    cgroup_parent: /\n",
        "",
        at(5, 5, "/services/web/cgroup_parent"),
        "policy.cgroup-parent",
        "service 'web' sets cgroup_parent: it would leave the host's limits",
        "remove cgroup_parent",
    ),
    "docker-socket": (
        "    volumes: ['/run/docker.sock:/var/run/docker.sock:ro']\n",
        "",
        at(5, 15, "/services/web/volumes/0"),
        "policy.docker-socket",
        "service 'web' mounts the container engine's socket '/run/docker.sock': that is root "
        "on the host, even read-only",
        "remove the mount; a tool that needs the Docker API needs a grant from the platform "
        "maintainers",
    ),
    "host-path": (
        "    volumes:\n      - type: bind\n        source: /srv/platform\n        target: /x\n",
        "",
        at(7, 9, "/services/web/volumes/0/source"),
        "policy.host-bind-mount",
        "service 'web' mounts the host path '/srv/platform'",
        "use a named volume (declared under the top-level volumes:); host paths belong to the "
        "host and to other tenants",
    ),
    "relative-bind": (
        "    volumes: ['./pgdata:/var/lib/postgresql/data']\n",
        "",
        at(5, 15, "/services/web/volumes/0"),
        "policy.host-bind-mount",
        "service 'web' bind-mounts './pgdata' from the release directory: data written there "
        "starts empty on every deploy and is deleted when old releases are pruned",
        "use a named volume (declared under the top-level volumes:); it survives every deploy "
        "and rollback",
    ),
    "foreign-volume": (
        "    volumes: ['data:/data']\n",
        "\nvolumes:\n  data:\n    name: filter-ical-production_pgdata\n",
        at(14, 5, "/volumes/data/name"),
        "policy.foreign-volume",
        "volume 'data' names a volume outside the project (name:): it may be another tenant's data",
        "remove external: and name:; compose names the volume after the tenant's project and "
        "environment",
    ),
    "foreign-network": (
        "    networks: [other]\n",
        "\nnetworks:\n  other:\n    external: true\n",
        at(14, 5, "/networks/other/external"),
        "policy.foreign-network",
        "network 'other' joins 'other', a network outside the project that the platform does "
        "not declare shared",
        "use the project's own networks, or one of the shared networks of configs/platform.yml "
        "(shared_networks: none)",
    ),
    "device-reservation": (
        "    deploy:\n      resources:\n        reservations:\n          devices:\n"
        "            - {capabilities: [gpu]}\n",
        "",
        at(8, 11, "/services/web/deploy/resources/reservations/devices"),
        "policy.devices",
        "service 'web' reserves host devices (deploy.resources.reservations.devices)",
        "tenants get no host devices; ask the platform maintainers for a grant",
    ),
    "macvlan": (
        "    networks: [lan]\n",
        "\nnetworks:\n  lan:\n    driver: macvlan\n",
        at(14, 5, "/networks/lan/driver"),
        "policy.foreign-network",
        "network 'lan' uses the 'macvlan' driver, which reaches past the project",
        "remove driver: (a bridge network of the project's own)",
    ),
    "host-file": (
        "    secrets: [key]\n",
        "\nsecrets:\n  key:\n    file: /etc/ssh/ssh_host_ed25519_key\n",
        at(14, 5, "/secrets/key/file"),
        "policy.host-file",
        "secret 'key' reads a file ('/etc/ssh/ssh_host_ed25519_key') that a release does not "
        "ship, from the host",
        "use secrets: key: environment: NAME with a secret of the tenant's, or content:",
    ),
    "env-file": (
        "",
        "",
        at(4, 5, "/services/web/env_file"),
        "policy.host-file",
        "service 'web' reads the env file '.env.production', which a release does not ship",
        "use env_file: .env (the release's env file: the environment's .env.<environment> with "
        "the platform's variables and the secrets), or environment:",
    ),
    "extends-file": (
        "    extends: {file: ../filter-ical/docker-compose.yml, service: db}\n",
        "",
        at(5, 15, "/services/web/extends/file"),
        "policy.host-file",
        "service 'web' extends a service of another file, which a release does not ship",
        "copy what it needs into this docker-compose.yml",
    ),
    "include": (
        "",
        "include:\n  - ../filter-ical/docker-compose.yml\n",
        at(10, 1, "/include"),
        "policy.host-file",
        "include: reads other compose files, which a release does not ship",
        "put everything in this docker-compose.yml",
    ),
    "reserved-label": (
        "    labels: {com.docker.compose.project: shop-production}\n",
        "",
        at(5, 14, "/services/web/labels/com.docker.compose.project"),
        "policy.reserved-label",
        "label 'com.docker.compose.project' belongs to Docker Compose or the platform: it would "
        "make containers pass for another project's",
        "name your labels with a prefix of your own",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_policy_rule(case: str) -> None:
    extra, top, where, rule, message, hint = CASES[case]
    tree = sources(extra, top)
    if case == "env-file":
        tree[COMPOSE] = BASE[COMPOSE].replace("env_file: .env", "env_file: .env.production")
    grantable = rule != "policy.unsupported-key"
    assert only(tree) == Problem(where, rule, message, hint + grant_hint(rule) * grantable)


def test_a_setting_made_through_a_variable_is_checked_with_the_env_files_value() -> None:
    tree = sources("    network_mode: ${NET}\n")
    tree[ENV] = BASE[ENV] + "NET=host\n"
    tree["configs/paiss/.env.production"] = BASE["configs/paiss/.env.production"] + "NET=none\n"
    assert only(tree).rule == "policy.host-namespace"  # staging only: production's is `none`


def test_a_setting_made_through_a_variable_the_platform_cannot_see_is_refused() -> None:
    tree = sources("    privileged: ${PRIV:-false}\n")
    assert only(tree) == Problem(
        at(5, 5, "/services/web/privileged"), "policy.unchecked-variable",
        "privileged is set through ${PRIV}, which the platform cannot check",
        "write the value itself, or set the variable in the env file"
        + grant_hint("policy.unchecked-variable"),
    )  # fmt: skip


def test_what_the_policy_allows() -> None:
    allowed = (
        "    security_opt: ['no-new-privileges:true']\n"
        "    network_mode: none\n    ipc: private\n    volumes: [data:/data, {type: tmpfs, "
        "target: /tmp}]\n    labels: {org.example.team: web}\n"
        "    oom_score_adj: 500\n    pids_limit: 200\n    cpu_shares: 512\n    mem_limit: 1g\n"
        "    logging: {driver: json-file, options: {max-size: 10m}}\n"
        "    post_start: [{command: [sh, -c, 'echo up'], user: app}]\n"
        "    x-team: web\n"
    )
    top = (
        "\nvolumes:\n  data:\n    driver: local\n"
        "networks:\n  default:\n    ipam: {driver: default}\nx-anchors: {}\n"
    )
    assert problems_of(sources(allowed, top)) == []


SHARED = "releases:\n"


def with_settings(tree: dict[str, str], extra: str) -> dict[str, str]:
    tree[PLATFORM] = BASE[PLATFORM].replace(SHARED, extra + "\n" + SHARED, 1)
    return tree


def test_a_shared_network_the_platform_declares_may_be_joined() -> None:
    tree = sources("    networks: [default, edge]\n", "\nnetworks:\n  edge:\n    external: true\n")
    tree = with_settings(tree, "shared_networks: [edge]\n")
    assert problems_of(tree) == []
    plan = build_plan(load_valid_config(tree), request("paiss", {"web": "v1"}))
    policy = next(s for s in plan.steps if s.id == "policy")
    assert policy.argv[4:9] == (
        "--shared-network",
        "edge",
        "--tenant-images",
        "ghcr.io/example-org/paiss",
        "--",
    )


SOCKET = "    volumes: ['/var/run/docker.sock:/var/run/docker.sock:ro']\n"
GRANT = (
    "grants:\n  - project: paiss\n    rule: policy.docker-socket\n    service: web\n"
    "    reason: the log shipper reads container logs (ops ticket 42)\n"
)


def test_a_grant_allows_one_rule_for_one_tenant_and_shows_in_its_plan() -> None:
    tree = with_settings(sources(SOCKET), GRANT)
    assert problems_of(tree) == []
    config = load_valid_config(tree)
    plan = build_plan(config, request("paiss", {"web": "v1"}))
    assert [(g.rule, g.service, g.reason) for g in plan.grants] == [
        ("policy.docker-socket", "web", "the log shipper reads container logs (ops ticket 42)")
    ]
    # ...and the host's own check of the release lets that rule through, and only it.
    policy = next(s for s in plan.steps if s.id == "policy")
    assert policy.argv[4:9] == (
        "--grant",
        "policy.docker-socket",
        "--tenant-images",
        "ghcr.io/example-org/paiss",
        "--",
    )
    other = build_plan(config, PlanRequest(project="filter-ical", environment="staging",
                                           now=NOW, actor="alice", platform_sha="",
                                           images={"backend": "v1", "frontend": "v1"}))  # fmt: skip
    assert other.grants == ()


def test_a_grant_does_not_reach_another_rule_service_or_tenant() -> None:
    privileged = with_settings(sources("    privileged: true\n" + SOCKET), GRANT)
    assert [p.rule for p in problems_of(privileged)] == ["policy.privileged"]
    other_service = GRANT.replace("service: web", "service: worker")
    found = problems_of(with_settings(sources(SOCKET), other_service))
    assert sorted(p.rule for p in found) == ["policy.docker-socket", "settings.unused-grant"]


def test_a_grant_that_allows_nothing_is_reported() -> None:
    gone = GRANT.replace("grants:\n", "").replace("project: paiss", "project: gone")
    tree = with_settings(sources(), GRANT + gone.replace("docker-socket", "privileged"))
    assert problems_of(tree) == [
        Problem(
            Location(PLATFORM, 30, 5, "/grants/0"), "settings.unused-grant",
            "grant of policy.docker-socket to 'paiss' (service 'web') allows nothing: the "
            "tenant's config no longer needs it", "remove the grant",
        ),
        Problem(
            Location(PLATFORM, 34, 5, "/grants/1"), "settings.unused-grant",
            "grant of policy.privileged to 'gone': there is no such tenant",
            "remove the grant",
        ),
    ]  # fmt: skip


CREDENTIAL_HINT = (
    "the platform's credentials (registry token, SSH keys, GitHub tokens, GITHUB_*, ACTIONS_*, "
    "RUNNER_*) are never given to a tenant; declare a secret of the tenant's own under another "
    "name"
)


@pytest.mark.parametrize(
    "name",
    ["REGISTRY_TOKEN", "DEPLOY_SSH_KEY", "GITHUB_TOKEN", "ACTIONS_RUNTIME_TOKEN",
     "APP_DEPLOYMENTS_TOKEN"],
)  # fmt: skip
def test_a_tenant_cannot_declare_a_platform_credential(name: str) -> None:
    tree = sources(**{PROJECT: BASE[PROJECT] + f"\nsecrets: [{name}]\n"})
    assert only(tree) == Problem(
        Location(PROJECT, 15, 11, "/secrets/0"), "project.platform-secret",
        f"secret {name} is one of the platform's own credentials", CREDENTIAL_HINT,
    )  # fmt: skip


def test_a_credential_of_the_platform_settings_is_one_too() -> None:
    tree = with_settings(
        sources(**{PROJECT: BASE[PROJECT] + "\nsecrets: [BACKUP_S3_KEY]\n"}),
        "platform_secrets: [BACKUP_S3_KEY]\n",
    )
    assert only(tree).rule == "project.platform-secret"


def test_a_compose_file_cannot_read_a_credential_from_the_hosts_environment() -> None:
    tree = sources(
        "    environment:\n      TOKEN: ${REGISTRY_TOKEN:-}\n",
        "\nsecrets:\n  token:\n    environment: DEPLOY_SSH_KEY\n",
    )
    assert problems_of(tree) == [
        Problem(at(6, 7, "/services/web/environment/TOKEN"), "compose.platform-secret",
                "${REGISTRY_TOKEN} is one of the platform's credentials: compose on the host "
                "would fill it in", CREDENTIAL_HINT),
        Problem(at(15, 5, "/secrets/token/environment"), "compose.platform-secret",
                "secret 'token' takes DEPLOY_SSH_KEY, one of the platform's credentials, from "
                "the deploy's environment", CREDENTIAL_HINT),
    ]  # fmt: skip


def test_a_plan_carries_no_credential_even_past_validation() -> None:
    config = load_valid_config(BASE)
    tenant = config.tenants["paiss"]
    manifest = tenant.manifest.model_copy(update={"secrets": ["REGISTRY_TOKEN"]})
    forged = config.tenants | {"paiss": replace(tenant, manifest=manifest)}
    config = replace(config, tenants=forged)
    with pytest.raises(PlanError, match="REGISTRY_TOKEN"):
        build_plan(config, request("paiss", {"web": "v1"}))


def test_tenant_secrets_are_read_per_tenant_and_credentials_by_their_own_name() -> None:
    config = load_valid_config(BASE)
    plan = build_plan(config, PlanRequest(project="filter-ical", environment="staging", now=NOW,
                                          actor="alice", platform_sha="",
                                          images={"backend": "v1", "frontend": "v1"}))  # fmt: skip
    assert plan.secrets == ("POSTGRES_PASSWORD", "SESSION_SECRET")
    assert plan.credentials == ("REGISTRY_TOKEN",)
    environ = {
        "FILTER_ICAL__POSTGRES_PASSWORD": "pg-of-filter-ical",
        "FILTER_ICAL__SESSION_SECRET": "session-of-filter-ical",
        "POSTGRES_PASSWORD": "pg-of-nobody",  # the bare name is never read
        "GABS_MASSAGE__POSTGRES_PASSWORD": "pg-of-gabs-massage",
        "REGISTRY_TOKEN": "registry-token",
    }
    assert gather_secrets(plan, environ) == {
        "POSTGRES_PASSWORD": "pg-of-filter-ical",
        "SESSION_SECRET": "session-of-filter-ical",
        "REGISTRY_TOKEN": "registry-token",
    }
    with pytest.raises(PlatformError, match="FILTER_ICAL__SESSION_SECRET"):
        gather_secrets(plan, {k: v for k, v in environ.items() if "SESSION" not in k})


def test_tenant_secret_variables_never_collide() -> None:
    pairs = [("filter-ical", "X"), ("filter", "ICAL__X"), ("a-b", "C"), ("a", "B__C")]
    names = [tenant_secret_variable(project, name) for project, name in pairs]
    assert names == ["FILTER_ICAL__X", "FILTER__ICAL__X", "A_B__C", "A__B__C"]
    assert len(set(names)) == len(names)


def test_a_tenant_cannot_ask_for_fewer_production_approvals_than_the_platform() -> None:
    tree = dict(BASE)
    tree[PLATFORM] = BASE[PLATFORM].replace(
        "    requires_approval: true\n", "    requires_approval: true\n    approvals: 2\n", 1
    )
    tree[PROJECT] = BASE[PROJECT] + "\napprovals:\n  production: 1\n"
    assert only(tree) == Problem(
        Location(PROJECT, 16, 3, "/approvals/production"), "project.fewer-approvals",
        "production asks for 1 approval(s); the platform requires 2",
        "a tenant may ask for more approvals than configs/platform.yml, never fewer; remove "
        "it or raise it",
    )  # fmt: skip
    config = load_valid_config({**tree, PROJECT: BASE[PROJECT] + "\napprovals:\n  production: 3\n"})
    assert required_approvals(config.settings, config.tenants["paiss"].manifest, "production") == 3
    # Past validation too, the platform's count holds.
    fewer = config.tenants["paiss"].manifest.model_copy(update={"approvals": {"production": 1}})
    assert required_approvals(config.settings, fewer, "production") == 2
