"""The deploy payload and GitHub's repository_dispatch limits; the names shared with the
workflow. Pure: no server."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from platform_lib.github.errors import PayloadInvalid
from platform_lib.github.naming import (
    RunTitle,
    job_name,
    parse_job_name,
    parse_title,
    render_title,
)
from platform_lib.github.payload import (
    MAX_BYTES,
    PAYLOAD_VERSION,
    DeployPayload,
    check_dispatch,
    payload_size,
)

DIGEST = "sha256:" + "ab" * 32
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def build(**changes: Any) -> DeployPayload:
    fields: dict[str, Any] = {
        "project": "filter-ical",
        "images": {"backend": f"ghcr.io/example-org/filter-ical-backend@{DIGEST}"},
        "commit": COMMIT,
        "actor": "alice",
        "app_repository": "example-org/filter-ical",
    }
    return DeployPayload.build(**{**fields, **changes})


def test_payload_names_what_to_deploy_and_its_run_title() -> None:
    payload = build()
    assert payload.model_dump() == {
        "payload_version": 2,
        "project": "filter-ical",
        "images": {"backend": f"ghcr.io/example-org/filter-ical-backend@{DIGEST}"},
        "commit": COMMIT,
        "actor": "alice",
        "app_repository": "example-org/filter-ical",
        "run_name": (
            f"deploy filter-ical: backend={DIGEST} (example-org/filter-ical@0123456 by alice)"
        ),
        "request_id": None,
        "id_token": None,
    }
    check_dispatch("deploy", payload.model_dump())  # within GitHub's limits


def test_the_request_id_ends_the_run_title() -> None:
    payload = build(request_id="0a1b2c3d4e5f6a7b")
    assert payload.run_name.endswith(" by alice) [request 0a1b2c3d4e5f6a7b]")
    parsed = parse_title(payload.run_name)
    assert parsed is not None and parsed.request_id == "0a1b2c3d4e5f6a7b"
    assert parsed.images == {"backend": DIGEST}
    # the receiver's check: a title naming another request does not describe this payload
    other = payload.model_dump() | {"request_id": "f" * 16}
    with pytest.raises(ValueError, match="run_name does not describe this payload"):
        DeployPayload.model_validate(other)


@pytest.mark.parametrize("request_id", ["", "0A1B2C3D4E5F6A7B", "0a1b2c", "0a1b2c3d4e5f6a7b]"])
def test_a_request_id_is_lowercase_hex(request_id: str) -> None:
    with pytest.raises(PayloadInvalid, match="request_id"):
        build(request_id=request_id)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"images": {"backend": "v1.2.3"}}, "images: backend='v1.2.3' is not pinned by digest"),
        ({"images": {"backend": "ghcr.io/x/y:latest"}}, "is not pinned by digest"),
        ({"images": {}}, "images: Dictionary should have at least 1 item"),
        ({"commit": "abc123"}, "commit: String should match pattern"),
        ({"project": "Filter_ICal"}, "project: String should match pattern"),
        ({"actor": "alice; rm -rf"}, "actor: String should match pattern"),
    ],
)
def test_invalid_payloads_are_refused_before_sending(
    changes: dict[str, object], message: str
) -> None:
    with pytest.raises(PayloadInvalid, match=r"^invalid deploy payload: ") as caught:
        build(**changes)
    assert message in str(caught.value)


def test_bare_digests_and_bot_actors_are_fine() -> None:
    payload = build(images={"web": DIGEST, "worker": DIGEST}, actor="dependabot[bot]")
    assert payload.run_name.startswith(f"deploy filter-ical: web={DIGEST} worker={DIGEST} (")


def test_a_payload_whose_title_lies_is_refused_by_the_receiver() -> None:
    forged = {**build().model_dump(), "run_name": "deploy filter-ical: backend=sha256:" + "cd" * 32}
    with pytest.raises(ValueError, match="run_name does not describe this payload"):
        DeployPayload.model_validate(forged)


def test_ten_keys_pass_eleven_do_not() -> None:
    ten = {f"k{i}": i for i in range(10)}
    check_dispatch("deploy", ten)
    with pytest.raises(
        PayloadInvalid, match="client_payload has 11 top-level keys; GitHub allows at most 10"
    ):
        check_dispatch("deploy", {**ten, "k10": 10})


def test_size_must_stay_under_64_kb() -> None:
    def sized(n: int) -> dict[str, str]:
        payload = {"blob": ""}
        payload["blob"] = "x" * (n - payload_size(payload))
        assert payload_size(payload) == n
        return payload

    check_dispatch("deploy", sized(MAX_BYTES - 1))
    with pytest.raises(
        PayloadInvalid, match="client_payload is 65536 bytes; GitHub needs it under 65536"
    ):
        check_dispatch("deploy", sized(MAX_BYTES))


def test_size_counts_utf8_bytes() -> None:
    assert payload_size({"a": "é"}) == len('{"a":"é"}'.encode())


def test_event_type_length() -> None:
    check_dispatch("x" * 100, {})
    with pytest.raises(PayloadInvalid, match="event_type must be 1 to 100 characters, not 101"):
        check_dispatch("x" * 101, {})


def test_titles_round_trip() -> None:
    images = {"web": f"ghcr.io/o/web@{DIGEST}", "api": "v2"}
    title = render_title("shop", images, "production", "by alice")
    assert title == f"deploy shop to production: api=v2 web={DIGEST} (by alice)"
    assert parse_title(title) == RunTitle(
        "shop", "production", {"api": "v2", "web": DIGEST}, "by alice"
    )
    assert parse_title(build().run_name) == RunTitle(
        "filter-ical", None, {"backend": DIGEST}, "example-org/filter-ical@0123456 by alice"
    )


@pytest.mark.parametrize(
    ("title", "parsed"),
    [
        ("deploy shop", RunTitle("shop")),
        ("deploy shop to staging:  (by bob)", RunTitle("shop", "staging", {}, "by bob")),
        ("deploy to-do to production", RunTitle("to-do", "production")),
        (
            f"deploy shop: web={DIGEST} (o/shop@abc1234 by bob) [request 0123456789abcdef]",
            RunTitle("shop", None, {"web": DIGEST}, "o/shop@abc1234 by bob", "0123456789abcdef"),
        ),
        ("Merge pull request #12 from example-org/configs", None),
        ("deploy Shop", None),
    ],
)
def test_titles_the_workflow_makes(title: str, parsed: RunTitle | None) -> None:
    assert parse_title(title) == parsed


@pytest.mark.parametrize(
    ("name", "parsed"),
    [
        (job_name("shop", "production"), ("shop", "production")),
        ("deploy / deploy shop to staging", ("shop", "staging")),
        ("matrix (deploy shop to staging)", ("shop", "staging")),
        ("plan", None),
        ("redeploy shop to staging", None),
    ],
)
def test_job_names(name: str, parsed: tuple[str, str] | None) -> None:
    assert parse_job_name(name) == parsed


def test_the_previous_shape_is_still_read() -> None:
    """What actions/deploy sent before `payload_version` existed (an app still on an older
    `@v1`): read as version 1, the same request."""
    current = build(request_id="0a1b2c3d4e5f6a7b").model_dump(mode="json")
    older = {k: v for k, v in current.items() if k != "payload_version"}
    read = DeployPayload.model_validate(older)
    assert read.payload_version == 1
    assert read.model_dump(exclude={"payload_version"}) == {
        k: v for k, v in current.items() if k != "payload_version"
    }
    assert DeployPayload.model_validate(current).payload_version == PAYLOAD_VERSION == 2


@pytest.mark.parametrize(("version", "says"), [(3, "newer actions/deploy"), (0, "ever sent")])
def test_an_unknown_version_is_refused_saying_why(version: int, says: str) -> None:
    current = build().model_dump(mode="json")
    with pytest.raises(ValidationError) as refused:
        DeployPayload.model_validate({**current, "payload_version": version})
    (error,) = refused.value.errors(include_url=False)
    assert error["loc"] == ("payload_version",)
    assert says in error["msg"]
