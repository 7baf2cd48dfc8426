"""The base model shared by every routine model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """Base of every routine model: immutable, unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")
