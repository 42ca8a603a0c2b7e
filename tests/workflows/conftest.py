from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e.platform_fixture import Platform
from e2e.servers import Servers, start_servers
from github import openapi
from github.oidc_issuer import LocalIssuer
from workflows import actrun


@pytest.fixture(scope="session")
def servers() -> Servers:
    return start_servers()


@pytest.fixture(scope="session")
def act_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """act's action cache and tool cache for the whole session: the platform venv that
    actions/setup builds is reused by every later job, as on a persistent runner."""
    return tmp_path_factory.mktemp("act-cache")


@pytest.fixture
def oidc_issuer() -> Iterator[LocalIssuer]:
    """GitHub Actions' OIDC token service, played on 127.0.0.1 with its own key: the platform
    under test trusts it instead of token.actions.githubusercontent.com."""
    issuer = LocalIssuer("example-org/app", "0" * 40).start()
    yield issuer
    issuer.stop()


@pytest.fixture
def platform_repo(
    servers: Servers, act_cache: Path, tmp_path: Path, oidc_issuer: LocalIssuer
) -> Iterator[actrun.PlatformRepo]:
    repo, host, work = tmp_path / "repo", tmp_path / "host", tmp_path / "work"
    for folder in (repo, host, work):
        folder.mkdir()
    actrun.copy_repository(repo)
    actrun.init_repository(repo)
    platform = Platform(servers, repo, host)
    github = {
        "repository": actrun.PLATFORM_REPO,
        "oidc_issuer": oidc_issuer.url,
        "oidc_jwks_url": oidc_issuer.jwks_url,
    }
    platform.write_settings(platform.settings(github=github))
    secrets = {
        "DEPLOY_SSH_KEY": Path(servers.env["SSH_CLIENT_KEY"]).read_text(),
        "REGISTRY_TOKEN": Path(servers.env["REGISTRY_PASSWORD_FILE"]).read_text().strip(),
    }
    act = actrun.Act(repo, work, act_cache, secrets)
    yield actrun.PlatformRepo(repo, platform, act, oidc_issuer)
    platform.cleanup()


@pytest.fixture(scope="session")
def github_spec() -> openapi.Spec:
    """GitHub's REST description, which the fake GitHub checks every request against."""
    return openapi.load()
