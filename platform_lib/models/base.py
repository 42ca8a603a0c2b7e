from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """Base of every config model: immutable, unknown keys are errors (typos must not pass)."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)
