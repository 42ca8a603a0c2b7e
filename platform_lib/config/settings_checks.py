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
    return problems
