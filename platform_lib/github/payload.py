"""The repository_dispatch that tells the platform about new images, checked against GitHub's
limits before anything is sent (GitHub would answer 422, or silently drop the event)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from platform_lib.config.images import is_digest, is_valid_image_ref, parse_image
from platform_lib.github.errors import PayloadInvalid
from platform_lib.github.naming import render_title
from platform_lib.models.names import COMMIT_PATTERN, GitHubRepository, ProjectName, ServiceName

MAX_EVENT_TYPE = 100
MAX_KEYS = 10
MAX_BYTES = 64 * 1024
"""`client_payload` must be smaller than this, as compact JSON in UTF-8."""

# A GitHub login; apps act as `name[bot]`.
ACTOR_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}(\[bot\])?$"
MAX_TOKEN = 16 * 1024
REQUEST_ID_PATTERN = r"^[0-9a-f]{16,64}$"
PAYLOAD_VERSION = 2
"""The shape this version sends. The platform reads it and the one before (1: no
`payload_version` key, what actions/deploy sent before the field existed), so an app
repository still on an older `@v1` keeps deploying while the platform moves on."""
READS = (1, 2)


def payload_size(client_payload: Mapping[str, Any]) -> int:
    """Bytes of the payload as sent: compact JSON, UTF-8."""
    return len(json.dumps(client_payload, separators=(",", ":"), ensure_ascii=False).encode())


def check_dispatch(event_type: str, client_payload: Mapping[str, Any]) -> None:
    """GitHub's documented limits of `POST /repos/{owner}/{repo}/dispatches`."""
    if not 1 <= len(event_type) <= MAX_EVENT_TYPE:
        raise PayloadInvalid(
            f"event_type must be 1 to {MAX_EVENT_TYPE} characters, not {len(event_type)}"
        )
    if len(client_payload) > MAX_KEYS:
        raise PayloadInvalid(
            f"client_payload has {len(client_payload)} top-level keys; GitHub allows at most "
            f"{MAX_KEYS} (nest the extra ones)"
        )
    size = payload_size(client_payload)
    if size >= MAX_BYTES:
        raise PayloadInvalid(
            f"client_payload is {size} bytes; GitHub needs it under {MAX_BYTES} (64 KB)"
        )


class DeployPayload(BaseModel):
    """`client_payload` of the `deploy` event. The platform's workflow reads the same model
    back from `github.event.client_payload`, so sender and receiver cannot drift apart."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    payload_version: int = 1
    """The payload's shape (`PAYLOAD_VERSION`); absent in the first one."""
    project: ProjectName
    images: dict[ServiceName, str] = Field(min_length=1)
    """Service -> image reference pinned by digest (`sha256:...` or `repo@sha256:...`)."""
    commit: str = Field(pattern=COMMIT_PATTERN)
    """The app repository's commit the images were built from."""
    actor: str = Field(pattern=ACTOR_PATTERN)
    app_repository: GitHubRepository
    run_name: str
    """The run title the workflow shows (`run-name:`); `pending` reads it back."""
    request_id: str | None = Field(default=None, pattern=REQUEST_ID_PATTERN)
    """A random id the sender picks for this one request, also at the end of `run_name`: the
    sender finds and follows exactly the run its request started. None from senders older
    than it."""
    id_token: str | None = Field(default=None, max_length=MAX_TOKEN, repr=False)
    """The sender's GitHub Actions OIDC token for the platform repository (`oidc`): proves
    which repository, commit and actor the request comes from. Never shown or logged."""

    @field_validator("payload_version")
    @classmethod
    def _known_version(cls, version: int) -> int:
        if version not in READS:
            newer = version > max(READS)
            raise ValueError(
                f"payload_version {version}: this platform reads versions "
                f"{', '.join(map(str, READS))}; "
                + (
                    "the request comes from a newer actions/deploy: update the platform "
                    "repository, or pin the app's action to a release it reads"
                    if newer
                    else "not a version actions/deploy ever sent"
                )
            )
        return version

    @field_validator("images")
    @classmethod
    def _by_digest(cls, images: dict[str, str]) -> dict[str, str]:
        for service, ref in images.items():
            digest = parse_image(ref).digest if is_valid_image_ref(ref) else None
            if not (is_digest(ref) or (digest is not None and is_digest(digest))):
                raise ValueError(
                    f"{service}={ref!r} is not pinned by digest: pass sha256:<64 hex> or "
                    "REPOSITORY@sha256:<64 hex> (what the registry answered to the push)"
                )
        return images

    @model_validator(mode="after")
    def _title_matches(self) -> Self:
        if self.run_name != deploy_title(self):
            raise ValueError("run_name does not describe this payload")
        return self

    @classmethod
    def build(
        cls,
        *,
        project: str,
        images: Mapping[str, str],
        commit: str,
        actor: str,
        app_repository: str,
        request_id: str | None = None,
        id_token: str | None = None,
    ) -> DeployPayload:
        fields: dict[str, Any] = {
            "payload_version": PAYLOAD_VERSION,
            "project": project,
            "images": dict(images),
            "commit": commit,
            "actor": actor,
            "app_repository": app_repository,
            "request_id": request_id,
            "id_token": id_token,
        }
        try:
            draft = cls.model_construct(**fields, run_name="")
            return cls.model_validate({**fields, "run_name": deploy_title(draft)})
        except ValidationError as exc:
            raise PayloadInvalid(f"invalid deploy payload: {_first_error(exc)}") from None


def deploy_title(payload: DeployPayload) -> str:
    source = f"{payload.app_repository}@{payload.commit[:7]} by {payload.actor}"
    return render_title(
        payload.project, payload.images, source=source, request_id=payload.request_id
    )


def _first_error(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    where = ".".join(str(p) for p in errors[0]["loc"])
    message = str(errors[0]["msg"]).removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {message}{more}" if where else message + more
