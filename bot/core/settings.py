"""Typed per-community settings: defaults live in the model, changes live in the database."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.ids import CommunityRef
from bot.db.models import CommunitySetting


class FeatureSettings(BaseModel):
    """Base for a feature's settings; each field has a default and a docstring."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    enabled: bool = True
    """Whether the feature runs in this community."""


S = TypeVar("S", bound=FeatureSettings)


class SettingsStore:
    """Reads and writes one feature's settings for one community inside a unit of work."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, community: CommunityRef, cls: type[S], feature: str) -> S:
        """The stored settings merged over the model's defaults."""
        row = await self.session.get(CommunitySetting, (community.key, feature))
        data = row.data if row is not None else {}
        try:
            return cls.model_validate(data)
        except ValidationError:
            # A field was removed or tightened since the row was written: keep what still
            # validates rather than losing every setting of the feature.
            fields = cls.model_fields
            kept = {}
            for key, value in data.items():
                if key in fields:
                    try:
                        cls.model_validate({key: value})
                    except ValidationError:
                        continue
                    kept[key] = value
            return cls.model_validate(kept)

    async def put(
        self, community: CommunityRef, feature: str, value: FeatureSettings, now: datetime
    ) -> None:
        """Store the fields that differ from the defaults."""
        data = value.model_dump(mode="json", exclude_defaults=True)
        row = await self.session.get(CommunitySetting, (community.key, feature))
        if row is None:
            self.session.add(
                CommunitySetting(
                    community_id=community.key, feature=feature, data=data, updated_at=now
                )
            )
        else:
            row.data = data
            row.updated_at = now
        await self.session.flush()
