"""Variables a tenant may not set in its release's `.env`, because programs of the deploy on
the host act on them (`env.host-variable`).

`docker compose` on the host reads the release's `.env` as its project environment: it takes
its own settings from there, and passes that environment to the processes it starts (a
`provider:` service runs a host program with it). A variable the container needs belongs under
`environment:` in the compose file instead: that goes to the container only, never into
compose's project environment. The host check (`platform_policy_check`, runtime/policy.sh)
refuses the same names in the `.env` it is given; tests hold its list to `HOST_VARIABLES`.

Each family, and why (patterns as `fnmatch` reads them, case-sensitive):
- `COMPOSE_*`: compose's own settings (which files, profiles, env files, project name, path
  separator, orphans, parallelism, bake, experimental features).
- `DOCKER_*`: the docker client's: which daemon (`DOCKER_HOST`, `DOCKER_CONTEXT`), its
  configuration and credentials (`DOCKER_CONFIG`, `DOCKER_CERT_PATH`, `DOCKER_TLS_VERIFY`),
  build and platform defaults (`DOCKER_BUILDKIT`, `DOCKER_DEFAULT_PLATFORM`).
- shell start-up and parsing: `BASH_ENV`, `ENV` (a file or `$(...)` any bash or sh started
  runs first), `BASH_FUNC_*` (exported functions), `SHELLOPTS`, `BASHOPTS`, `PS4`,
  `PROMPT_COMMAND`, `IFS`, `CDPATH`, `GLOBIGNORE`.
- `LD_*`: the dynamic loader (`LD_PRELOAD`, `LD_LIBRARY_PATH`, `LD_AUDIT`: code loaded into
  every program started).
- `PATH`, `HOME`, `TMPDIR`: which program runs, where its configuration and credentials are
  read from (`~/.docker`, `~/.ssh`), where it writes temporary files.
- `SSH_*`: the ssh client a `ssh://` daemon address uses (`SSH_AUTH_SOCK`, `SSH_ASKPASS`).
- `GIT_*`: git, which compose runs for remote build contexts and includes
  (`GIT_SSH_COMMAND`, `GIT_CONFIG_*`, `GIT_DIR`).
- proxies, in both cases as programs read them: where requests to the registry and remote
  resources go, credentials along.
"""

from __future__ import annotations

import re
from fnmatch import translate
from typing import Final

from platform_lib.config.loader import Tenant
from platform_lib.errors import Location, Problem

HOST_VARIABLES: Final = (
    "COMPOSE_*",
    "DOCKER_*",
    "BASH_ENV",
    "ENV",
    "BASH_FUNC_*",
    "SHELLOPTS",
    "BASHOPTS",
    "PS4",
    "PROMPT_COMMAND",
    "IFS",
    "CDPATH",
    "GLOBIGNORE",
    "LD_*",
    "PATH",
    "HOME",
    "TMPDIR",
    "SSH_*",
    "GIT_*",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
)
HINT = (
    "compose on the host reads the release's .env as its own environment and acts on this "
    "variable; set it for the container under environment: of its service in "
    "docker-compose.yml instead (that never reaches compose's own environment)"
)


_HOST_VARIABLE = re.compile("|".join(translate(pattern) for pattern in HOST_VARIABLES))
"""The patterns as one regular expression (fnmatch's translation, case-sensitive): one
match per key instead of one per pattern."""


def is_host_variable(name: str) -> bool:
    return _HOST_VARIABLE.match(name) is not None


def host_variable_problems(tenant: Tenant) -> list[Problem]:
    """env.host-variable at every env-file key, and every secret name (a secret is a key of
    the release's `.env` too), that `is_host_variable`."""
    problems = [
        Problem(
            Location(env_file.file, entry.line, entry.column),
            "env.host-variable",
            f"{entry.key} would change how docker compose (or a program it starts) runs on "
            "the host",
            HINT,
        )
        for env_file in tenant.env_files.values()
        for entry in env_file.entries
        if is_host_variable(entry.key)
    ]
    problems += [
        Problem(
            tenant.manifest_doc.locate(["secrets", index]),
            "env.host-variable",
            f"secret {name} would be written to the release's .env, where it would change "
            "how docker compose (or a program it starts) runs on the host",
            "name the secret otherwise and pass it to the container under environment: "
            "(e.g. MY_VAR: ${NAME})",
        )
        for index, name in enumerate(tenant.manifest.secrets)
        if is_host_variable(name)
    ]
    return problems
