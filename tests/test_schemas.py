"""The committed JSON Schemas are generated from the models and work on their own (editors,
pre-commit), agreeing with the models on the example configs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from platform_lib.cli import main
from platform_lib.schema_gen import generate_schemas, stale_schemas


def test_committed_schemas_match_the_models(repo_root: Path) -> None:
    assert stale_schemas(repo_root) == [], "run: python -m platform_lib schema --write"


def test_schema_check_command_fails_on_drift(tmp_path: Path) -> None:
    (tmp_path / "schemas").mkdir()
    for name, text in generate_schemas().items():
        (tmp_path / "schemas" / name).write_text(text)
    assert main(["schema", "--check", "--root", str(tmp_path)]) == 0
    (tmp_path / "schemas" / "project.schema.json").write_text("{}\n")
    assert main(["schema", "--check", "--root", str(tmp_path)]) == 1
    assert main(["schema", "--write", "--root", str(tmp_path)]) == 0
    assert stale_schemas(tmp_path) == []


def _validator(repo_root: Path, name: str) -> Draft202012Validator:
    schema = json.loads((repo_root / "schemas" / name).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _load(path: Path) -> object:
    return yaml.safe_load(path.read_text())


def test_example_configs_are_valid_against_the_committed_schemas(repo_root: Path) -> None:
    settings = _validator(repo_root, "platform.schema.json")
    assert list(settings.iter_errors(_load(repo_root / "configs/platform.yml"))) == []
    project = _validator(repo_root, "project.schema.json")
    manifests = sorted((repo_root / "configs").glob("*/project.yml"))
    assert len(manifests) >= 3
    for manifest in manifests:
        assert list(project.iter_errors(_load(manifest))) == [], manifest


def test_every_config_file_names_its_schema_for_editors(repo_root: Path) -> None:
    files = [
        repo_root / "configs/platform.yml",
        *sorted((repo_root / "configs").glob("*/project.yml")),
    ]
    for path in files:
        first = path.read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path
        target = (path.parent / first.split("$schema=", 1)[1]).resolve()
        assert target.is_file(), f"{path}: schema reference {target} does not exist"


@pytest.mark.parametrize(
    ("document", "message_part"),
    [
        ({"kind": "ssh", "address": "10.0.0.1"}, "'host_key' is a required property"),
        ({"address": "10.0.0.1", "host_key": "ssh-ed25519 AAAA", "colour": "red"}, "colour"),
        ({"kind": "local", "port": 0}, "0 is less than the minimum of 1"),
    ],
)
def test_schema_rejects_bad_hosts_like_the_model(
    repo_root: Path, document: dict[str, object], message_part: str
) -> None:
    settings = yaml.safe_load((repo_root / "configs/platform.yml").read_text())
    settings["environments"]["staging"]["hosts"]["staging-1"] = document
    errors = list(_validator(repo_root, "platform.schema.json").iter_errors(settings))
    assert any(message_part in e.message for e in errors), [e.message for e in errors]
