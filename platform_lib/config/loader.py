"""Parse the platform repository's config files (given as text) into validated models."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from platform_lib.config.envfile import EnvFile, parse_env_file
from platform_lib.config.model_errors import validate_model
from platform_lib.config.sources import (
    CONFIG_DIR,
    SETTINGS_FILE,
    TENANT_FILES,
    Sources,
    encoding_problem,
)
from platform_lib.config.yaml_source import YamlDocument, YamlSyntaxError, parse_yaml
from platform_lib.errors import Location, Problem
from platform_lib.models.names import ProjectName, conforms
from platform_lib.models.project import ProjectManifest
from platform_lib.models.settings import PlatformSettings


def is_project_name(name: str) -> bool:
    return conforms(ProjectName, name)


@dataclass(frozen=True)
class Tenant:
    name: str
    manifest: ProjectManifest
    manifest_doc: YamlDocument
    compose: YamlDocument
    compose_text: str
    env_files: Mapping[str, EnvFile]
    """Parsed `.env.<environment>` per environment the tenant deploys to."""
    env_texts: Mapping[str, str]
    """The same files as written."""

    @property
    def directory(self) -> str:
        return f"{CONFIG_DIR}/{self.name}"


@dataclass(frozen=True)
class PlatformConfig:
    settings: PlatformSettings
    settings_doc: YamlDocument
    tenants: Mapping[str, Tenant]

    def environments_of(self, tenant: Tenant) -> list[str]:
        wanted = tenant.manifest.environments
        return [e for e in self.settings.environments if wanted is None or e in wanted]


def parse_yaml_file(
    sources: Mapping[str, str], path: str, problems: list[Problem]
) -> YamlDocument | None:
    if path not in sources:
        if path in refused(sources):
            return None  # file.symlink or file.not-regular
        problems.append(
            Problem(
                Location(path),
                "file.missing",
                f"{path} is missing",
                "create it; README.md has the configuration reference"
                if path == SETTINGS_FILE
                else "create it; see 'Adding a tenant' in README.md",
            )
        )
        return None
    undecodable = encoding_problem(path, sources[path])
    if undecodable is not None:
        problems.append(undecodable)
        return None
    try:
        return parse_yaml(sources[path], path)
    except YamlSyntaxError as exc:
        problems.append(exc.problem)
        return None


def refused(sources: Mapping[str, str]) -> Mapping[str, Problem]:
    """The entries `read_sources` refused to read (links, special files), by path."""
    return sources.refused if isinstance(sources, Sources) else {}


def project_names(sources: Mapping[str, str]) -> list[str]:
    """Tenant folders: every `configs/<name>/` holding a project.yml or docker-compose.yml."""
    names = set()
    for path in sources:
        parts = path.split("/")
        if len(parts) == 3 and parts[0] == CONFIG_DIR and parts[2] in TENANT_FILES:
            names.add(parts[1])
    return sorted(names)


def nested_tenant_problems(sources: Mapping[str, str]) -> list[Problem]:
    """A folder deeper than `configs/<name>/` that holds a tenant's files: the platform would
    never deploy it, so it is reported rather than silently left out."""
    folders: dict[str, str] = {}
    for path in sources:
        parts = path.split("/")
        if len(parts) > 3 and parts[0] == CONFIG_DIR and parts[-1] in TENANT_FILES:
            folders.setdefault("/".join(parts[:-1]), parts[-2])
    return [
        Problem(
            Location(folder),
            "project.nested-folder",
            f"{folder}/ holds tenant files but is not a tenant folder: tenants are the folders "
            f"right under {CONFIG_DIR}/, and this one is never validated nor deployed",
            f"move it to {CONFIG_DIR}/{name}/ (one folder per tenant, no grouping folders)",
        )
        for folder, name in sorted(folders.items())
    ]


def load_config(sources: Mapping[str, str]) -> tuple[PlatformConfig | None, list[Problem]]:
    """Parse and schema-check everything. Returns the config (None if it could not be built)
    and every problem found on the way; cross-file rules live in `validate`."""
    problems = list(refused(sources).values()) + nested_tenant_problems(sources)
    settings_doc = parse_yaml_file(sources, SETTINGS_FILE, problems)
    settings = None
    if settings_doc is not None:
        settings, found = validate_model(settings_doc, PlatformSettings, "settings")
        problems.extend(found)
    tenants: dict[str, Tenant] = {}
    for name in project_names(sources):
        tenant = _load_tenant(sources, name, settings, problems)
        if tenant is not None:
            tenants[name] = tenant
    if settings is None or settings_doc is None:
        return None, problems
    return PlatformConfig(settings, settings_doc, tenants), problems


def _load_tenant(
    sources: Mapping[str, str],
    name: str,
    settings: PlatformSettings | None,
    problems: list[Problem],
) -> Tenant | None:
    directory = f"{CONFIG_DIR}/{name}"
    if not is_project_name(name):
        problems.append(
            Problem(
                Location(directory),
                "project.name",
                f"project folder name {name!r} is not a valid project name",
                "use lowercase letters, digits and single dashes, starting with a letter "
                "(it becomes the compose project name)",
            )
        )
        return None
    manifest_doc = parse_yaml_file(sources, f"{directory}/project.yml", problems)
    compose_path = f"{directory}/docker-compose.yml"
    compose_doc = parse_yaml_file(sources, compose_path, problems)
    manifest = None
    if manifest_doc is not None:
        manifest, found = validate_model(manifest_doc, ProjectManifest, "project")
        problems.extend(found)
    env_files: dict[str, EnvFile] = {}
    env_texts: dict[str, str] = {}
    if settings is not None:
        wanted = manifest.environments if manifest is not None else None
        for env in settings.environments:
            if wanted is not None and env not in wanted:
                continue
            path = f"{directory}/.env.{env}"
            if path in refused(sources):
                continue
            if path not in sources:
                problems.append(
                    Problem(
                        Location(path),
                        "env.missing-file",
                        f"{path} is missing",
                        f"create it (it may be empty) with the {env} settings of {name}",
                    )
                )
                continue
            undecodable = encoding_problem(path, sources[path])
            if undecodable is not None:
                problems.append(undecodable)
                continue
            env_file = parse_env_file(sources[path], path)
            problems.extend(env_file.problems)
            env_files[env] = env_file
            env_texts[env] = sources[path]
    if manifest is None or manifest_doc is None or compose_doc is None:
        return None
    return Tenant(
        name, manifest, manifest_doc, compose_doc, sources[compose_path], env_files, env_texts
    )
