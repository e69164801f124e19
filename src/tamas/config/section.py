"""The base of every configuration section."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """Base of every configuration section: immutable, unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")
