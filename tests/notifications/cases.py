"""Events and settings the notification tests share."""

from __future__ import annotations

from datetime import UTC, datetime

from platform_lib.models.notifications import Event
from platform_lib.models.project import ProjectManifest
from platform_lib.models.settings import PlatformSettings

NOW = datetime(2026, 3, 4, 10, 30, tzinfo=UTC)
KEY = "k3y-for-the-hmac-0123456789"


def settings(**environment: object) -> PlatformSettings:
    return PlatformSettings.model_validate(
        {
            "registry": {"host": "ghcr.io", "namespace": "example-org"},
            "environments": {
                "staging": {"hosts": {"s1": {"kind": "local"}}, **environment},
                "production": {"hosts": {"p1": {"kind": "local"}}},
            },
            "notification_limits": {"timeout": 0.5, "retries": 2, "budget": 2.0},
        }
    )


def manifest(**fields: object) -> ProjectManifest:
    return ProjectManifest.model_validate({"app_repository": "example-org/shop", **fields})


def event(**fields: object) -> Event:
    base: dict[str, object] = {
        "kind": "deploy.succeeded",
        "project": "shop",
        "environment": "staging",
        "actor": "alice",
        "at": "2026-03-04T10:30:00Z",
        "release": "20260304T103000Z-abc1234",
        "images": {"backend": "ghcr.io/example-org/shop-backend@sha256:" + "a" * 64},
    }
    return Event.model_validate({**base, **fields})
