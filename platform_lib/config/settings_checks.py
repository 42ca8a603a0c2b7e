"""Rules within the platform settings that the schema alone cannot express."""

from __future__ import annotations

from platform_lib.config.loader import PlatformConfig
from platform_lib.errors import Problem


def settings_problems(config: PlatformConfig) -> list[Problem]:
    envs = config.settings.environments
    problems = []
    for name, env in envs.items():
        if env.deploy_after is not None and env.deploy_after not in envs:
            problems.append(
                Problem(
                    config.settings_doc.locate(["environments", name, "deploy_after"]),
                    "settings.unknown-env",
                    f"environment {name!r} deploys after unknown environment {env.deploy_after!r}",
                    f"known environments: {', '.join(envs)}",
                )
            )
        elif env.deploy_after == name:
            problems.append(
                Problem(
                    config.settings_doc.locate(["environments", name, "deploy_after"]),
                    "settings.unknown-env",
                    f"environment {name!r} cannot deploy after itself",
                    "name the environment whose verified images it promotes, e.g. staging",
                )
            )
    return problems + _deploy_after_cycles(config)


def _deploy_after_cycles(config: PlatformConfig) -> list[Problem]:
    """Environments that deploy after each other in a ring: each waits for images another
    has verified, so none of them ever deploys. Reported once per ring, at the deploy_after of
    its first environment in the file (a ring of one is reported above)."""
    envs = config.settings.environments
    order = list(envs)
    problems: list[Problem] = []
    seen: set[str] = set()
    for start in order:
        path: list[str] = []
        name: str | None = start
        while name is not None and name in envs and name not in seen and name not in path:
            path.append(name)
            name = envs[name].deploy_after
        seen.update(path)
        if name is None or name not in path:
            continue
        ring = path[path.index(name) :]
        if len(ring) < 2:
            continue
        first = min(ring, key=order.index)
        at = ring.index(first)
        ring = ring[at:] + ring[:at]
        problems.append(
            Problem(
                config.settings_doc.locate(["environments", first, "deploy_after"]),
                "settings.deploy-after-cycle",
                "environments deploy after each other in a cycle ("
                + ", ".join(f"{a} after {b}" for a, b in zip(ring, [*ring[1:], first], strict=True))
                + "): none of them can ever deploy",
                f"one environment deploys first (usually staging): remove deploy_after from one "
                f"of {', '.join(ring)}",
            )
        )
    return problems
