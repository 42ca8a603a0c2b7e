"""The promotion policy, branch by branch: facts in, one typed decision out."""

from __future__ import annotations

from typing import Any

import pytest

from platform_lib.planning.promotion import (
    Deploy,
    PromotionFacts,
    Refuse,
    Skip,
    SourceRelease,
    decide,
    digest_of,
)

REPO = "registry.example/platform/shop-web"
D1, D2, D3 = (f"sha256:{c * 64}" for c in "123")
SHA = "a" * 40


def ref(digest: str, repo: str = REPO) -> str:
    return f"{repo}@{digest}"


def staging(**kw: Any) -> PromotionFacts:
    base: dict[str, Any] = {"project": "shop", "environment": "staging", "built": ("web",)}
    return PromotionFacts(**{**base, **kw})


def source(**kw: Any) -> SourceRelease:
    base: dict[str, Any] = {
        "environment": "staging",
        "release": "r1",
        "platform_sha": SHA,
        "configs_changed": False,
        "digests": {"web": ref(D1)},
    }
    return SourceRelease(**{**base, **kw})


def production(**kw: Any) -> PromotionFacts:
    base: dict[str, Any] = {
        "project": "shop",
        "environment": "production",
        "built": ("web",),
        "source": source(),
    }
    return PromotionFacts(**{**base, **kw})


DEPLOYS = [
    ("staging: the requested image", staging(requested={"web": "v2"}), {"web": "v2"}, ()),
    (
        "staging: nothing requested keeps what runs (a config change)",
        staging(running={"web": ref(D1)}, running_release="r0"),
        {"web": ref(D1)},
        ("web",),
    ),
    (
        "staging: services not requested keep their running digests",
        staging(
            built=("web", "worker"),
            requested={"web": ref(D2)},
            running={"web": ref(D1), "worker": ref(D3)},
            running_release="r0",
        ),
        {"web": ref(D2), "worker": ref(D3)},
        ("worker",),
    ),
    ("production: staging's digests", production(), {"web": ref(D1)}, ()),
    (
        "production: staging's digests, the requested one matching",
        production(requested={"web": ref(D1, "other/repo")}),
        {"web": ref(D1)},
        (),
    ),
    (
        "production: a bare requested digest",
        production(requested={"web": D1}),
        {"web": ref(D1)},
        (),
    ),
    (
        "production: only the built services of staging's release",
        production(source=source(digests={"web": ref(D1), "db": "postgres@" + D2})),
        {"web": ref(D1)},
        (),
    ),
    (
        "production: exactly the expected digests",
        production(expected={"web": D1}),
        {"web": ref(D1)},
        (),
    ),
    (
        "staging: expected digests match the request",
        staging(requested={"web": ref(D2)}, expected={"web": D2}),
        {"web": ref(D2)},
        (),
    ),
]


@pytest.mark.parametrize(("case", "facts", "images", "kept"), DEPLOYS, ids=[c[0] for c in DEPLOYS])
def test_deploys(
    case: str, facts: PromotionFacts, images: dict[str, str], kept: tuple[str]
) -> None:
    decision = decide(facts)
    assert isinstance(decision, Deploy), decision
    assert (decision.images, decision.kept) == (images, kept)
    if facts.source is not None:
        assert decision.source_release == "r1" and "staging release r1" in decision.note


SKIPS = [
    ("staging: nothing requested, nothing running", staging()),
    (
        "production: staging runs nothing, nothing requested",
        production(source=source(release=None, digests={})),
    ),
]


@pytest.mark.parametrize(("case", "facts"), SKIPS, ids=[c[0] for c in SKIPS])
def test_skips(case: str, facts: PromotionFacts) -> None:
    assert isinstance(decide(facts), Skip)


REFUSALS = [
    ("an unbuilt service requested", staging(requested={"db": "v1"}), "does not build db"),
    (
        "an unbuilt service expected",
        production(expected={"web": D1, "db": D2}),
        "does not build db",
    ),
    (
        "staging: a service neither requested nor running",
        staging(built=("web", "worker"), requested={"web": "v2"}),
        "no image for shop/worker",
    ),
    (
        "staging: runs a release but not this (new) service",
        staging(running_release="r0"),
        "no image for shop/web",
    ),
    (
        "production: staging runs nothing, images requested",
        production(source=source(release=None, digests={}), requested={"web": D1}),
        "never verified there",
    ),
    (
        "production: staging runs nothing, digests expected",
        production(source=source(release=None, digests={}), expected={"web": D1}),
        "never verified there",
    ),
    (
        "production: staging's configs changed since its release",
        production(source=source(configs_changed=True, platform_sha="b" * 40)),
        "shop's configs changed since, and staging has not verified them",
    ),
    (
        "production: staging's release not made from a commit",
        production(source=source(configs_changed=None, platform_sha="unknown")),
        "not from a commit of this repository",
    ),
    (
        "production: staging runs no digest of a built service",
        production(built=("web", "worker")),
        "runs no digest of shop/worker",
    ),
    (
        "production: a requested digest staging does not run",
        production(requested={"web": ref(D2)}),
        f"runs web {D1}, not the requested {D2}",
    ),
    ("production: a requested tag", production(requested={"web": "v2"}), "by digest only"),
    (
        "production: staging no longer runs the expected digests",
        production(expected={"web": D2}),
        "no longer runs the digests",
    ),
    (
        "production: an expected digest that is no digest",
        production(expected={"web": "v1"}),
        "not a sha256 digest",
    ),
    (
        "production: expected digests leave a built service out",
        production(
            built=("web", "worker"),
            expected={"web": D1},
            source=source(digests={"web": ref(D1), "worker": ref(D3)}),
        ),
        "no expected digest for shop/worker",
    ),
    (
        "staging: an expected digest against a tag",
        staging(requested={"web": "v2"}, expected={"web": D2}),
        "by tag",
    ),
]


@pytest.mark.parametrize(("case", "facts", "reason"), REFUSALS, ids=[c[0] for c in REFUSALS])
def test_refusals(case: str, facts: PromotionFacts, reason: str) -> None:
    decision = decide(facts)
    assert isinstance(decision, Refuse), decision
    assert reason in decision.reason and decision.remedy


@pytest.mark.parametrize(
    ("given", "digest"),
    [
        (ref(D1), D1),
        (D1, D1),
        (f"@{D1}", D1),
        (f"{REPO}:v1@{D1}", D1),
        ("v1", ""),
        (f"{REPO}:v1", ""),
        ("sha256:short", ""),
    ],
)
def test_digest_of(given: str, digest: str) -> None:
    assert digest_of(given) == digest


def test_the_decision_is_a_function_of_the_facts() -> None:
    facts = production(requested={"web": D1}, expected={"web": D1})
    again = PromotionFacts.model_validate_json(facts.model_dump_json())
    assert decide(facts) == decide(again)
