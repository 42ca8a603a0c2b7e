"""JSON Schemas generated from the models, committed in `schemas/` and checked for drift."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from platform_lib.docs_gen import with_reference
from platform_lib.models.host_state import HostState
from platform_lib.models.outcome import DeployOutcome
from platform_lib.models.plan import Plan
from platform_lib.models.project import ProjectManifest
from platform_lib.models.records import BackupRecord, HistoryEvent, LockHolder, ReleaseRecord
from platform_lib.models.settings import PlatformSettings

SCHEMA_DIR = "schemas"
SCHEMAS: dict[str, tuple[type[BaseModel], str]] = {
    "platform.schema.json": (PlatformSettings, "Platform settings (configs/platform.yml)"),
    "project.schema.json": (ProjectManifest, "Tenant manifest (configs/<project>/project.yml)"),
    "plan.schema.json": (Plan, "Deploy plan (python -m platform_lib plan --format json)"),
    # Records the host sends back (the runtime writes them; platform_lib reads them).
    "release.schema.json": (
        ReleaseRecord,
        "Release record on the host (releases/<id>/release.json)",
    ),
    "backup.schema.json": (BackupRecord, "Record of a backup on the host (backups/<file>.json)"),
    "history-event.schema.json": (HistoryEvent, "One line of history.jsonl on the host"),
    "lock.schema.json": (LockHolder, "Deploy lock holder on the host (lock/holder.json)"),
    "host-facts.schema.json": (HostState, "Host facts (the runtime's platform_facts)"),
    "outcome.schema.json": (DeployOutcome, "Outcome record of a plan's script (PLATFORM-OUTCOME)"),
}


def generate_schemas() -> dict[str, str]:
    out: dict[str, str] = {}
    for name, (model, title) in SCHEMAS.items():
        schema = model.model_json_schema(mode="validation")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://github.com/example-org/multi-tenant-platform/schemas/{name}"
        schema["title"] = title
        out[name] = json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=True) + "\n"
    return out


def generated_files(root: Path) -> dict[str, str]:
    """Every file generated from the models: the schemas, and README.md's config reference."""
    files = {f"{SCHEMA_DIR}/{name}": text for name, text in generate_schemas().items()}
    readme = root / "README.md"
    if readme.is_file():
        files["README.md"] = with_reference(readme.read_text(encoding="utf-8"))
    return files


def stale_schemas(root: Path) -> list[str]:
    """Generated files that differ from what the models generate."""
    return [
        name
        for name, text in generated_files(root).items()
        if not (root / name).is_file() or (root / name).read_text(encoding="utf-8") != text
    ]


def write_schemas(root: Path) -> list[str]:
    stale = stale_schemas(root)
    (root / SCHEMA_DIR).mkdir(exist_ok=True)
    for name, text in generated_files(root).items():
        if name in stale:
            (root / name).write_text(text, encoding="utf-8")
    return stale
