"""Resource limits of a tenant's containers: the platform's default and maximum
(configs/platform.yml `limits:`) and a tenant's request per service (project.yml `limits:`)."""

from __future__ import annotations

from pydantic import Field, model_validator

from platform_lib.models.base import Model
from platform_lib.models.sizes import MemorySize


class ResourceLimits(Model):
    """Limits of one container; a resource left out is not limited by this entry."""

    memory: MemorySize | None = None
    """Memory, as Compose writes it (`512m`, `1g`) or in bytes: `mem_limit`."""
    cpus: float | None = Field(default=None, gt=0, le=1024)
    """CPUs the container may use, e.g. `0.5` or `2`: `cpus`."""
    pids: int | None = Field(default=None, ge=1, le=4194304)
    """Processes and threads the container may run at once: `pids_limit`."""


class PlatformLimits(Model):
    """Limits the platform applies to every container of every tenant. A tenant's manifest may
    lower them per service, and raise them up to `maximum`; so may its compose file. A
    resource in neither `default` nor `maximum` is not limited."""

    default: ResourceLimits = ResourceLimits()
    """What a container gets unless its tenant asks for other limits."""
    maximum: ResourceLimits = ResourceLimits()
    """The most a tenant may ask for. A resource with a default but no maximum cannot be
    raised; one with a maximum but no default gets the maximum."""

    @model_validator(mode="after")
    def _default_within_maximum(self) -> PlatformLimits:
        for key in ("memory", "cpus", "pids"):
            default, maximum = getattr(self.default, key), getattr(self.maximum, key)
            if default is not None and maximum is not None and default > maximum:
                raise ValueError(f"the default {key} is above the maximum {key}")
        return self

    def default_of(self, key: str) -> float | None:
        value: float | None = getattr(self.default, key)
        return value if value is not None else getattr(self.maximum, key)

    def maximum_of(self, key: str) -> float | None:
        value: float | None = getattr(self.maximum, key)
        return value if value is not None else getattr(self.default, key)


RESOURCES = ("memory", "cpus", "pids")
"""Every limited resource, in the order plans show them."""
