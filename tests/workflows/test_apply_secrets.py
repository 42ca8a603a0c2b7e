"""actions/apply's secrets: from the tenant's GitHub environment (bare names) to the deploy's
environment, where the CLI reads a tenant's secret NAME of project P as `<P>__<NAME>` and the
platform's own credentials under their own names; a platform credential never becomes a
tenant's secret."""

from __future__ import annotations

import importlib.util
import json
import sys
from types import ModuleType
from typing import Any

import pytest
import yaml
from workflows import actrun

from platform_lib.models.project import ProjectManifest
from platform_lib.models.settings import PlatformSettings

SSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nkey-line-1\nkey-line-2\n"
ENVIRONMENT = {
    "DEPLOY_SSH_KEY": SSH_KEY,
    "REGISTRY_TOKEN": "registry-token-value",
    "POSTGRES_PASSWORD": "pg-password-value",
    "API_KEY": "api-key-value",
    "github_token": "runner-token-value",
}


@pytest.fixture(scope="module")
def apply() -> ModuleType:
    sys.path.insert(0, str(actrun.REPO_ROOT / "actions/lib"))
    spec = importlib.util.spec_from_file_location(
        "platform_apply", actrun.REPO_ROOT / "actions/apply/apply.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pydantic look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def environment_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLATFORM_SECRETS", json.dumps(ENVIRONMENT))


def test_tenant_secrets_are_exported_under_the_tenant_prefix_and_masked(
    apply: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    chosen = apply.secrets_for(
        ["POSTGRES_PASSWORD", "API_KEY"], ["REGISTRY_TOKEN"], "filter-ical", ["REGISTRY_TOKEN"],
        "filter-ical-staging",
    )  # fmt: skip
    assert chosen == {
        "FILTER_ICAL__POSTGRES_PASSWORD": "pg-password-value",
        "FILTER_ICAL__API_KEY": "api-key-value",
        "REGISTRY_TOKEN": "registry-token-value",
    }
    masks = [line for line in capsys.readouterr().out.splitlines() if line.startswith("::add")]
    assert masks == [f"::add-mask::{value}" for value in chosen.values()]


def test_only_what_the_plan_names_leaves_the_environment(apply: ModuleType) -> None:
    chosen = apply.secrets_for(["API_KEY"], [], "shop", ["REGISTRY_TOKEN"], "shop-staging")
    assert chosen == {"SHOP__API_KEY": "api-key-value"}


@pytest.mark.parametrize(
    "name", ["DEPLOY_SSH_KEY", "GITHUB_TOKEN", "REGISTRY_TOKEN", "APP_DEPLOYMENTS_TOKEN"]
)
def test_a_tenant_secret_named_like_a_platform_credential_is_refused(
    apply: ModuleType, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    with pytest.raises(apply.Refused):
        apply.secrets_for([name], [], "shop", ["REGISTRY_TOKEN"], "shop-production")
    assert SSH_KEY.splitlines()[1] not in capsys.readouterr().out


def test_a_missing_secret_is_refused_by_name(apply: ModuleType) -> None:
    with pytest.raises(apply.Refused) as refused:
        apply.secrets_for(["SMTP_PASSWORD"], [], "shop", [], "shop-production")
    assert "SMTP_PASSWORD" in str(refused.value) and "'shop-production'" in str(refused.value)


def test_a_credential_the_plan_does_not_use_never_leaves_the_environment(
    apply: ModuleType,
) -> None:
    chosen = apply.secrets_for(["API_KEY"], [], "shop", ["REGISTRY_TOKEN"], "shop-staging")
    assert "REGISTRY_TOKEN" not in chosen and "DEPLOY_SSH_KEY" not in chosen


def models(settings: dict[str, Any], manifest: dict[str, Any]) -> tuple[Any, Any]:
    """The settings and manifest as actions/apply loads them (configs/ through the models)."""
    return PlatformSettings.model_validate(settings), ProjectManifest.model_validate(manifest)


def test_the_sinks_secrets_of_the_tenant_and_environment_are_handed_on(
    apply: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = yaml.safe_load((actrun.REPO_ROOT / "configs/platform.yml").read_text())
    settings["environments"]["production"]["notifications"] = [
        {"kind": "slack", "url_secret": "PLATFORM_SLACK_WEBHOOK"},
        {"kind": "webhook", "url_secret": "PLATFORM_AUDIT_URL", "key_secret": "PLATFORM_AUDIT_KEY"},
    ]
    manifest = {"notifications": {"production": [{"kind": "slack", "url_secret": "TEAM_SLACK"}]}}
    monkeypatch.setenv("PLATFORM_SECRETS", json.dumps({
        **ENVIRONMENT, "PLATFORM_SLACK_WEBHOOK": "https://hooks.example/platform",
        "PLATFORM_AUDIT_URL": "https://audit.example/in", "TEAM_SLACK": "https://hooks.example/team",
    }))  # fmt: skip
    chosen = apply.sink_secrets(*models(settings, manifest), "shop", "production")
    assert chosen == {
        "PLATFORM_SLACK_WEBHOOK": "https://hooks.example/platform",
        "PLATFORM_AUDIT_URL": "https://audit.example/in",  # its key is not set: left out
        "SHOP__TEAM_SLACK": "https://hooks.example/team",
    }
    masks = [line for line in capsys.readouterr().out.splitlines() if line.startswith("::add")]
    assert len(masks) == 3
    assert apply.sink_secrets(*models(settings, manifest), "shop", "staging") == {}


def test_a_tenant_sink_named_like_a_platform_credential_gets_nothing(
    apply: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Validation refuses such a sink first; the picking refuses it again."""
    settings = yaml.safe_load((actrun.REPO_ROOT / "configs/platform.yml").read_text())
    manifest = {"notifications": {"production": [
        {"kind": "webhook", "url_secret": "DEPLOY_SSH_KEY", "key_secret": "REGISTRY_TOKEN"},
    ]}}  # fmt: skip
    monkeypatch.setenv("PLATFORM_SECRETS", json.dumps(
        {**ENVIRONMENT, "DEPLOY_SSH_KEY": "-----BEGIN KEY-----", "REGISTRY_TOKEN": "t0ken"}
    ))  # fmt: skip
    assert apply.sink_secrets(*models(settings, manifest), "shop", "production") == {}
