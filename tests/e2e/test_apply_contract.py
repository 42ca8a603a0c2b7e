"""actions/apply's contract with the workflow, against the real servers: staging's `digests`
output, passed to production as `expected-digests`, deploys exactly those digests; once
staging runs others, the same expected digests are refused and production is untouched."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest
from e2e.platform_fixture import Platform, http_get, web_tenant
from local_platform import load_action

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def action() -> ModuleType:
    return load_action("platform_apply_contract")


def apply(action: ModuleType, platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
          environment: str, images: str = "",
          expected: str = "") -> tuple[int, dict[str, str]]:  # fmt: skip
    """One run of the action's script, as its step runs it; its step outputs."""
    out = tmp_path / f"output-{environment}"
    out.write_text("")
    token = Path(platform.servers.env["REGISTRY_PASSWORD_FILE"]).read_text().strip()
    monkeypatch.setenv("GITHUB_OUTPUT", str(out))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    monkeypatch.setenv("PLATFORM_SECRETS", json.dumps({"REGISTRY_TOKEN": token}))
    inputs = action.Inputs(root=platform.root, project="shop", environment=environment,
                           images=images, expected=expected,
                           key_file=platform.servers.env["SSH_CLIENT_KEY"], actor="ci",
                           outside_window="")  # fmt: skip
    work = tmp_path / f"work-{environment}"
    work.mkdir(exist_ok=True)
    code = action.run(inputs, work)
    found, lines = {}, out.read_text().splitlines()
    while lines:
        name, delimiter = lines.pop(0).split("<<")
        end = lines.index(delimiter)
        found[name], lines = "\n".join(lines[:end]), lines[end + 1 :]
    return code, found


def test_production_deploys_exactly_the_digests_staging_reported(
    platform: Platform, action: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    env = platform.servers.env
    repository = env["DEMO_WEB_V2"].rsplit(":", 1)[0]
    platform.add_tenant("shop", web_tenant())
    code, staging = apply(action, platform, tmp_path, monkeypatch, "staging",
                          images=f"web={repository}@{env['DEMO_WEB_V2_DIGEST']}")  # fmt: skip
    assert code == 0 and staging["deployed"] == "true"
    assert json.loads(staging["digests"]) == {"web": env["DEMO_WEB_V2_DIGEST"]}

    code, production = apply(action, platform, tmp_path, monkeypatch, "production",
                             expected=staging["digests"])  # fmt: skip

    assert code == 0 and production["digests"] == staging["digests"]
    assert http_get(platform.port("shop", "production")) == "v2"
    release = production["release"]

    # staging moves on; an approval of the old digests must not deploy the new ones
    platform.deploy("shop", image="v1")
    capsys.readouterr()
    code, refused = apply(action, platform, tmp_path, monkeypatch, "production",
                          expected=staging["digests"])  # fmt: skip
    assert code == 1 and refused["deployed"] == "false" and refused["digests"] == "{}"
    errors = [line for line in capsys.readouterr().out.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and "staging no longer runs the digests" in errors[0]
    assert platform.current("shop", "production") == release
    assert http_get(platform.port("shop", "production")) == "v2"
