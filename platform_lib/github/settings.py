"""What the GitHub commands read from the platform repository: `configs/platform.yml` (alone
for approvals: a broken tenant config must not block one), the tenants' manifests (for the
environments they need), and which repository to talk to."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from platform_lib.config.model_errors import validate_model
from platform_lib.config.sources import SETTINGS_FILE, NotRegular, decode, read_regular, refusal
from platform_lib.config.yaml_source import YamlSyntaxError, parse_yaml
from platform_lib.errors import ConfigError, UsageError
from platform_lib.github.client import Repo
from platform_lib.models.project import ProjectManifest
from platform_lib.models.settings import PlatformSettings

CONFIGS = "configs"
MANIFEST = "project.yml"


def load_settings(root: Path) -> PlatformSettings | None:
    """The platform settings; None when there are none, e.g. `notify` in an app repository."""
    path = root / SETTINGS_FILE
    if not (path.is_file() or path.is_symlink()):
        return None
    try:
        doc = parse_yaml(decode(read_regular(path)), SETTINGS_FILE)
    except NotRegular:
        raise ConfigError([refusal(SETTINGS_FILE, path.is_symlink())]) from None
    except YamlSyntaxError as exc:
        raise ConfigError([exc.problem]) from None
    settings, problems = validate_model(doc, PlatformSettings, "settings")
    if settings is None:
        raise ConfigError(problems)
    return settings


def resolve_repo(
    flag: str | None, settings: PlatformSettings | None, environ: Mapping[str, str]
) -> Repo:
    """`--repo`, else `github.repository` of the settings, else `$GITHUB_REPOSITORY`."""
    configured = settings.github.repository if settings and settings.github else None
    text = flag or configured or environ.get("GITHUB_REPOSITORY")
    if not text:
        raise UsageError(
            f"which repository? pass --repo OWNER/NAME or set github.repository in {SETTINGS_FILE}"
        )
    return Repo.parse(text)


def deploy_after(settings: PlatformSettings | None) -> dict[str, str | None]:
    """Environment -> the one whose verified digests it deploys (staging before production
    when there are no settings to ask)."""
    if settings is None:
        return {"production": "staging"}
    return {name: env.deploy_after for name, env in settings.environments.items()}


def load_manifest(root: Path, project: str) -> ProjectManifest | None:
    """One tenant's manifest, or None when it is missing or broken (for what is only shown,
    such as its deployment windows in `pending`)."""
    path = root / CONFIGS / project / MANIFEST
    if path.parent.is_symlink():
        return None
    try:
        text = read_regular(path).decode("utf-8")
        doc = parse_yaml(text, f"{CONFIGS}/{project}/{MANIFEST}")
    except (OSError, UnicodeDecodeError, YamlSyntaxError):
        return None
    manifest, _ = validate_model(doc, ProjectManifest, "project")
    return manifest


def load_tenants(root: Path) -> dict[str, ProjectManifest]:
    """Every tenant's manifest (`configs/<project>/project.yml`); a broken one is an error."""
    tenants: dict[str, ProjectManifest] = {}
    problems = []
    for path in sorted((root / CONFIGS).glob(f"*/{MANIFEST}")):
        source = f"{CONFIGS}/{path.parent.name}/{MANIFEST}"
        if path.parent.is_symlink():
            problems.append(refusal(f"{CONFIGS}/{path.parent.name}", True))
            continue
        try:
            doc = parse_yaml(decode(read_regular(path)), source)
        except NotRegular:
            problems.append(refusal(source, path.is_symlink()))
            continue
        except YamlSyntaxError as exc:
            problems.append(exc.problem)
            continue
        manifest, found = validate_model(doc, ProjectManifest, "project")
        if manifest is None:
            problems.extend(found)
        else:
            tenants[path.parent.name] = manifest
    if problems:
        raise ConfigError(problems)
    return tenants
