"""The announcements feature: managers point Steward at a brand's feeds (sources half)."""

from __future__ import annotations

from typing import Annotated

from aiohttp.abc import AbstractResolver

from bot.core import CommandContext, Feature, FeatureSettings, Level, UserError, command
from cogs.announcements._fetch import Fetcher, Limits
from cogs.announcements._guard import AddressPolicy
from cogs.announcements._source import read_feed
from cogs.announcements._texts import found_text, problem_text

Ctx = CommandContext[FeatureSettings]


class Announcements(Feature, name="announcements"):
    """Bring a brand's feeds into the community, safely and cheaply."""

    def __init__(
        self,
        *,
        policy: AddressPolicy | None = None,
        limits: Limits | None = None,
        resolver: AbstractResolver | None = None,
    ) -> None:
        super().__init__()
        # One fetcher for every community: its per-host limit is politeness towards publishers.
        self.fetcher = Fetcher(policy, limits=limits, resolver=resolver)

    async def on_unload(self) -> None:
        """Close the fetcher's connections."""
        await self.fetcher.close()

    @command("check", requires=Level.ADMIN)
    async def check(self, ctx: Ctx, url: Annotated[str, "The feed's web address"]) -> None:
        """Fetch a feed now and see privately what Steward finds in it."""
        reading = await read_feed(self.fetcher, url)
        if reading.error is not None or reading.feed is None or reading.fetched is None:
            raise UserError(problem_text(url, reading.error))
        await ctx.reply(found_text(reading.feed, reading.fetched.url))
