"""JSON Schemas generated from the models, committed in `schemas/` and checked for drift."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from platform_lib.models.plan import Plan
from platform_lib.models.project import ProjectManifest
from platform_lib.models.settings import PlatformSettings

SCHEMA_DIR = "schemas"
SCHEMAS: dict[str, tuple[type[BaseModel], str]] = {
    "platform.schema.json": (PlatformSettings, "Platform settings (configs/platform.yml)"),
    "project.schema.json": (ProjectManifest, "Tenant manifest (configs/<project>/project.yml)"),
    "plan.schema.json": (Plan, "Deploy plan (python -m platform_lib plan --format json)"),
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


def stale_schemas(root: Path) -> list[str]:
    """Schema files that differ from what the models generate."""
    stale = []
    for name, text in generate_schemas().items():
        path = root / SCHEMA_DIR / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(f"{SCHEMA_DIR}/{name}")
    return stale


def write_schemas(root: Path) -> list[str]:
    (root / SCHEMA_DIR).mkdir(exist_ok=True)
    written = []
    for name, text in generate_schemas().items():
        path = root / SCHEMA_DIR / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(f"{SCHEMA_DIR}/{name}")
    return written
