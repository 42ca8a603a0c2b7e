"""The platform's own settings: `configs/platform.yml`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from platform_lib.models.base import Model
from platform_lib.models.limits import PlatformLimits
from platform_lib.models.names import (
    EnvName,
    GitHubRepository,
    HostName,
    ImageRepository,
    NetworkName,
    ProjectName,
    SecretName,
    ServiceName,
)
from platform_lib.models.notifications import NotificationLimits, Sink
from platform_lib.models.windows import DeployWindows

# The host's public SSH key, `TYPE BASE64` as in a known_hosts line.
HostKey = Annotated[
    str,
    StringConstraints(
        pattern=r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}$"
    ),
]
# DNS name or IP address the host is reached at.
Address = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9]([A-Za-z0-9.:-]*[A-Za-z0-9])?$", max_length=253),
]
UnixUser = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_-]*$", max_length=32)]
# An absolute path on the host.
AbsolutePath = Annotated[
    str,
    StringConstraints(pattern=r"^/[A-Za-z0-9._/-]*$", max_length=200),
]


class Host(Model):
    """A Docker host. `ssh` hosts are reached over SSH with a pinned host key; `local` runs the
    same deploy script through bash on this machine (for the quick start and tests)."""

    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"kind": {"const": "ssh"}}},
            "then": {"required": ["address", "host_key"]},
        }
    )

    kind: Literal["ssh", "local"] = "ssh"
    """How the host is reached."""
    address: Address | None = None
    """DNS name or IP address (required for `ssh`)."""
    port: int = Field(default=22, ge=1, le=65535)
    """SSH port."""
    user: UnixUser = "deploy"
    """SSH login user; needs access to the Docker engine."""
    host_key: HostKey | None = None
    """The host's public key, pinned: a host presenting any other key is refused."""
    docker_host: str | None = Field(default=None, pattern=r"^(unix|tcp|ssh)://[^\s]+$")
    """Optional `DOCKER_HOST` for the engine on that host (default: the host's own)."""
    max_parallel_deploys: int = Field(default=4, ge=1, le=256)
    """How many tenants the deploy workflow deploys onto this host at once (its matrices'
    `max-parallel`), so a change to the platform settings, which redeploys every tenant,
    does not start them all on a shared host together."""

    @model_validator(mode="after")
    def _ssh_needs_address_and_key(self) -> Host:
        if self.kind == "ssh" and (self.address is None or self.host_key is None):
            raise ValueError("an ssh host needs `address` and `host_key` (pin the host's key)")
        return self


class Environment(Model):
    """A deploy environment such as `staging` or `production`."""

    hosts: dict[HostName, Host] = Field(min_length=1)
    """The Docker hosts of this environment; a tenant runs on the first unless its manifest
    places it elsewhere."""
    domain_template: str = Field(
        default="{domain}",
        pattern=r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*\{domain\}(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$",
    )
    """How this environment's domains derive from a route's production domains, e.g.
    `staging.{domain}`. Routes may list domains per environment explicitly instead."""
    requires_approval: bool = False
    """Gate deploys behind the GitHub environment's required reviewers."""
    approvals: int = Field(default=1, ge=1, le=6)
    """How many distinct people must approve each deploy (with `requires_approval`), none of
    them its author (the verified requester, or the pusher of a config change). From 2 on,
    each deploy also waits on the gate environments `<project>-<env>-approval-1..N-1`, and
    the deploy job checks the run's approvals before anything deploys."""
    deploy_after: EnvName | None = None
    """The environment whose verified image digests this one deploys (promotion by digest)."""
    windows: DeployWindows | None = None
    """When deploys may start (default: any time); a tenant's manifest may set its own."""
    notifications: list[Sink] = Field(default_factory=list)
    """Where deploys and approvals of every tenant in this environment are announced. A
    tenant's manifest may add sinks of its own, never remove these. The variables they name
    are the platform's credentials: no tenant may declare them."""

    @model_validator(mode="after")
    def _approvals_need_approval(self) -> Environment:
        if self.approvals > 1 and not self.requires_approval:
            raise ValueError("`approvals` above 1 needs `requires_approval: true`")
        return self


class Registry(Model):
    """The image registry the platform pulls tenant images from."""

    host: str = Field(
        pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?$",
        max_length=253,
    )
    """Registry host, with port if any, e.g. `ghcr.io` or `127.0.0.1:5000`."""
    namespace: str = Field(pattern=r"^[a-z0-9]+([._-][a-z0-9]+)*$")
    """Owner or organisation the tenants' images live under."""
    username: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]+$")
    """Login user; no login is made when unset (public or loopback registry)."""
    token_secret: SecretName | None = None
    """Name of the environment variable that holds the registry token (never its value)."""
    shared_repositories: list[ImageRepository] = Field(default_factory=list)
    """Repositories under the namespace that the platform publishes for every tenant to run
    (a base image, a sidecar). Every other repository there belongs to the tenant it is named
    for (`<project>` or `<project>-...`): no other tenant may run it."""


class Releases(Model):
    """What is kept of old releases."""

    keep: int = Field(default=5, ge=2, le=100)
    """Good releases kept per tenant and environment: the newest `keep` releases that
    completed a deploy (passed their health checks), and the current one always, even when a
    rollback made an older one current. Failed releases never count: a deploy that fails
    removes its release directory (its `.env` first), and only good releases are rollback
    targets. Older releases are pruned after each deploy."""


class Timeouts(Model):
    """Deploy timeouts, in seconds."""

    lock_wait: int = Field(default=300, ge=0, le=3600)
    """How long a deploy waits for another deploy of the same tenant+environment."""
    lock_expiry: int = Field(default=3600, ge=60, le=86400)
    """After this long a lock left by a killed deploy counts as stale."""
    pull: int = Field(default=600, ge=10, le=7200)
    """Pulling every image."""
    up: int = Field(default=300, ge=10, le=3600)
    """`docker compose up --wait`: until every container is running and healthy."""
    health: int = Field(default=60, ge=1, le=3600)
    """HTTP health checks of routed services."""


class Proxy(Model):
    """The nginx on every Docker host: it routes each tenant's domains to its containers and
    makes HTTP-routed services switch blue/green, with no failed request.

    Include the generated file in nginx's `http {}` block: `include <dir>/*.conf;`."""

    dir: AbsolutePath = Field(default="/etc/nginx/platform", max_length=90)
    """Directory of the generated config: `http.conf` (shared, with the default servers),
    `sites/` and `upstreams/` (one file each per tenant+environment), and the socket of the
    maintenance server (`maintenance.sock`: a socket's path has at most 107 bytes)."""
    nginx_conf: AbsolutePath = "/etc/nginx/nginx.conf"
    """nginx's main config: tested with `nginx -t -c` before every reload."""
    pid_file: AbsolutePath = "/run/nginx.pid"
    """nginx master's pid file, as set by `pid` in the main config."""
    http_port: int = Field(default=80, ge=1, le=65535)
    """Port of the HTTP servers (redirects to HTTPS, ACME challenges)."""
    https_port: int = Field(default=443, ge=1, le=65535)
    """Port of the HTTPS servers."""
    ipv6: bool = True
    """Listen on IPv6 too."""
    certificates: AbsolutePath = "/etc/letsencrypt/live"
    """Certificates, one directory per route named after its first domain holding
    `fullchain.pem` and `privkey.pem` (certbot's layout; provided certificates use it too).
    A route without its certificate is served over HTTP only, until one is there."""
    acme_webroot: AbsolutePath = "/var/www/acme"
    """Webroot for `certbot certonly --webroot -w <acme_webroot>`; served on every route's
    domains at `/.well-known/acme-challenge/` over HTTP."""
    drain: int = Field(default=30, ge=0, le=600)
    """Seconds the old containers of a switched service keep serving requests already in
    flight before they are stopped (nginx's old workers usually finish far sooner)."""


class GitHubSettings(Model):
    """Where the platform repository lives on GitHub."""

    repository: GitHubRepository
    """`owner/name` of this platform repository."""
    production_reviewers: list[str] = Field(default_factory=list, max_length=6)
    """GitHub users (or `org/team`) allowed to approve production deploys: every tenant's
    gated environments, unless its manifest lists its own `reviewers`."""
    oidc_issuer: str = Field(
        default="https://token.actions.githubusercontent.com", pattern=r"^https?://[^\s]+$"
    )
    """Issuer of the GitHub Actions OIDC tokens deploy requests carry (GitHub Enterprise
    Cloud with a custom issuer: `https://token.actions.githubusercontent.com/<enterprise>`)."""
    oidc_jwks_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$")
    """Where the issuer publishes its signing keys (default: `<oidc_issuer>/.well-known/jwks`)."""


# The tenant security policy's rules (config/tenant_policy.py) that a grant may lift.
PolicyRule = Literal[
    "policy.privileged",
    "policy.capabilities",
    "policy.security-opt",
    "policy.host-namespace",
    "policy.devices",
    "policy.cgroup-parent",
    "policy.docker-socket",
    "policy.host-bind-mount",
    "policy.foreign-volume",
    "policy.foreign-network",
    "policy.foreign-image",
    "policy.host-file",
    "policy.reserved-label",
    "policy.unchecked-variable",
    "policy.runtime",
    "policy.resources",
    "policy.log-driver",
]


class Grant(Model):
    """An exception to the tenant security policy: one rule lifted for one named tenant (and,
    optionally, one of its services), with the reason written down. It shows in every plan
    and release record of that tenant; `validate` reports a grant that matches nothing."""

    project: ProjectName
    """The tenant the exception is for."""
    rule: PolicyRule
    """The policy rule it lifts, e.g. `policy.docker-socket`."""
    service: ServiceName | None = None
    """Only this service of the tenant (default: any of its services and top-level entries)."""
    reason: str = Field(min_length=10, max_length=500)
    """Why: who asked, what for, who agreed. Shown wherever the grant is."""


class PlatformSettings(Model):
    """The platform's settings: `configs/platform.yml`."""

    deploy_root: AbsolutePath = "/srv/platform"
    """Directory on each host under which tenants' releases, history and locks live."""
    registry: Registry
    """The image registry."""
    environments: dict[EnvName, Environment] = Field(min_length=1)
    """Deploy environments in deploy order (staging first)."""
    releases: Releases = Releases()
    """Release retention."""
    timeouts: Timeouts = Timeouts()
    """Deploy timeouts."""
    github: GitHubSettings | None = None
    """The platform repository on GitHub."""
    shared_networks: list[NetworkName] = Field(default_factory=list)
    """Docker networks outside any tenant's project that tenants may join (`external: true`),
    e.g. one the platform's monitoring runs on. Every other network of a tenant is its own."""
    platform_secrets: list[SecretName] = Field(default_factory=list)
    """Names of the platform's own credentials beyond the built-in ones (the registry's
    `token_secret`, the variables of every environment's `notifications`, `DEPLOY_SSH_KEY`,
    `PLATFORM_SSH_KEY`, `GITHUB_TOKEN`, `GH_TOKEN`): no tenant may declare them, and no deploy
    gives them to a tenant."""
    grants: list[Grant] = Field(default_factory=list)
    """Exceptions to the tenant security policy, each for one named tenant with a reason."""
    notification_limits: NotificationLimits = NotificationLimits()
    """Time bounds of the notifications: per request, retries, per event."""
    limits: PlatformLimits | None = None
    """Memory, CPU and process limits of every tenant container (default: none). The platform
    sets them in each release's `platform.override.yml`, over what the compose file says."""
    proxy: Proxy | None = None
    """The edge proxy on the Docker hosts. Without it, routed services are recreated in
    place (a short outage per deploy) and checked at their containers' addresses."""
