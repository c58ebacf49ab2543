"""Engagement: what members do, stored as metadata, rolled up per day, reported to managers."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from bot.core import (
    Attachment,
    CommandContext,
    Context,
    Event,
    Feature,
    JobContext,
    Level,
    Message,
    PlatformReady,
    Runtime,
    UserError,
    UserRef,
    command,
    job,
    on,
)
from cogs.announcements.events import AnnouncementPosted
from cogs.engagement import _admin, _announcements, _introductions, _moderation, _repo
from cogs.engagement._catchup import CatchUp, flushed
from cogs.engagement._channels import channel_of
from cogs.engagement._charts import activity_chart, charts, sentiment_chart
from cogs.engagement._digest import open_with_links, send_digest
from cogs.engagement._ingest import MAX_PENDING, TRACKED, Ingest
from cogs.engagement._metrics import Period, day_of
from cogs.engagement._newcomers import point_at_intro
from cogs.engagement._periods import UNITS, PeriodError, parse_period
from cogs.engagement._questions import open_questions
from cogs.engagement._report import (
    RETENTION_HEADER,
    open_summary,
    pages,
    retention_lines,
    summary,
)
from cogs.engagement.settings import EngagementSettings
from cogs.introductions.events import RoundClosed
from cogs.moderation.events import ModerationWeek
from cogs.onboarding.events import StepCompleted

Ctx = CommandContext[EngagementSettings]


class Engagement(Feature, name="engagement"):
    """Engagement tracking and community health reports."""

    Settings = EngagementSettings
    port_calls = frozenset({"channels", "channel_names", "history"})

    def __init__(
        self, *, flush_after: float = 0.1, max_batch: int = 5000, max_pending: int = MAX_PENDING
    ) -> None:
        """``flush_after``: the longest an event waits in the buffer while the writer is busy
        (seconds; when it is not, events leave at once); ``max_pending``: events not on disk
        yet beyond which new ones wait (``Ingest.room``)."""
        self.flush_after = flush_after
        self.max_batch = max_batch
        self.max_pending = max_pending
        self._ingest: Ingest | None = None
        self._catch_up = CatchUp()

    @property
    def ingest(self) -> Ingest:
        """The buffer and writer (there once the App has attached the feature)."""
        if self._ingest is None:
            raise RuntimeError("the engagement feature is not attached to an App")
        return self._ingest

    def attach(self, runtime: Runtime) -> None:
        """Build the ingest buffer on the App's database, clock and activity counter."""
        self._ingest = Ingest(
            runtime.db,
            runtime.clock,
            runtime.activity,
            runtime.steps,
            self,
            max_batch=self.max_batch,
            flush_after=self.flush_after,
            max_pending=self.max_pending,
        )

    async def on_load(self) -> None:
        """Remember who opted out; start the writer process."""
        async with self.ingest.db.uow() as uow:
            for community, user in await _admin.opted_out(uow.session):
                self.ingest.opted_out[community].add(user)
        await self.ingest.start()

    async def on_unload(self) -> None:
        """Write what is still buffered."""
        if self._ingest is not None:
            await self._ingest.close()

    async def written(self) -> None:
        """Return once every event tracked so far is stored by the writer process."""
        if self._ingest is not None:
            await self._ingest.flush()

    # -- ingest --------------------------------------------------------------------------------

    @on(Event, inline=True)
    async def track(self, event: Event) -> None:
        """Buffer a tracked event; the writer stores it within ``flush_after``. While too many
        wait for the database, the platform's next event waits here (never dropped)."""
        if isinstance(event, TRACKED):
            self.ingest.offer(event)
            await self.ingest.room()

    @on(StepCompleted)
    async def newcomer_step(self, ctx: Context[EngagementSettings], event: StepCompleted) -> None:
        """Point members at a newcomer's intro (``greet_intros``)."""
        await point_at_intro(ctx, event)

    @on(AnnouncementPosted)
    async def announced(self, ctx: Context[EngagementSettings], event: AnnouncementPosted) -> None:
        """Follow the conversation an announcement starts."""
        await _announcements.remember(ctx.uow.session, event)

    @on(RoundClosed)
    async def introductions_round(
        self, ctx: Context[EngagementSettings], event: RoundClosed
    ) -> None:
        """Keep an ended round of introductions for the weekly digest."""
        await _introductions.remember(ctx.uow.session, event)

    @on(ModerationWeek)
    async def moderated(self, ctx: Context[EngagementSettings], event: ModerationWeek) -> None:
        """Keep moderation's latest weekly figures for the digest's moderation line."""
        await _moderation.remember(ctx.uow.session, event)

    @job(every=timedelta(minutes=10))
    async def count_announcements(self, ctx: JobContext[EngagementSettings]) -> None:
        """Tell the relay how the conversations its posts started are going."""
        await _announcements.tell(ctx)

    @on(PlatformReady)
    async def ready(self, ctx: Context[EngagementSettings], event: PlatformReady) -> None:
        """Catch up at once when Steward (re)connects to a community, not 10 minutes later."""
        await ctx.commit()
        await self.ingest.prepare(ctx.community.key)
        await self._catch_up.run(ctx, self.ingest, threads=True)

    @job(every=timedelta(minutes=10))
    async def catch_up(self, ctx: JobContext[EngagementSettings]) -> None:
        """Fetch what was posted while Steward was away, from each channel's last stored message."""
        await self._catch_up.run(ctx, self.ingest, threads=False)

    # -- reports -------------------------------------------------------------------------------

    def _period(self, ctx: Ctx, text: str) -> Period:
        try:
            return parse_period(text, day_of(ctx.clock.now()))
        except PeriodError as exc:
            raise UserError(str(exc)) from None

    @command("report", requires=Level.MOD)
    async def report(
        self,
        ctx: Ctx,
        period: Annotated[str, "Like 7d, 4w, 3 months or 2026-01-01..2026-01-31"] = "30d",
        channel: Annotated[str | None, "Only this channel, like #general"] = None,
    ) -> None:
        """Community health for a period, with charts."""
        await flushed(ctx, self.ingest)
        if channel and channel.strip().isalpha() and channel.strip().lower() in UNITS:
            # Slack splits `report 3 months` into a period and a "channel".
            period, channel = f"{period} {channel}", None
        span = self._period(ctx, period)
        only = None
        if channel:
            only = channel_of(channel, await ctx.port.channel_names(ctx.community))
        now = ctx.clock.now()
        f = await _repo.figures(ctx.uow.session, ctx.community.key, span, only, day_of(now))
        found = await open_questions(ctx.uow.session, ctx.community.key, only)
        where = f" in <#{only}>" if only else ""
        text = "\n".join([RETENTION_HEADER, *retention_lines(f)]) if f.cohorts else ""
        await ctx.reply(
            Message(
                title=f"Engagement {span.label()}{where}",
                text=text,
                fields=tuple(summary(f, open_summary(found, now))),
                files=await charts(f, activity_chart, sentiment_chart),
            )
        )

    @command("unanswered", requires=Level.MOD)
    async def unanswered(self, ctx: Ctx) -> None:
        """Questions nobody has answered yet, with links (all of them, oldest first)."""
        found, lines = await open_with_links(ctx, self.ingest)
        if not found:
            await ctx.reply("No open questions.")
            return
        head = f"Unanswered questions ({open_summary(found, ctx.clock.now())}):"
        for text in pages([head, *lines]):
            await ctx.reply(text)

    @command("me")
    async def me(
        self, ctx: Ctx, period: Annotated[str, "Like 7d, 4w or 2026-01-01..2026-01-31"] = "30d"
    ) -> None:
        """Your own activity, shown only to you."""
        await flushed(ctx, self.ingest)
        span = self._period(ctx, period)
        if ctx.actor.ref.id in self.ingest.opted_out.get(ctx.community.key, ()):
            await ctx.reply("You opted out, so nothing is tracked about you.", ephemeral=True)
            return
        mine = await _repo.mine(ctx.uow.session, ctx.community.key, ctx.actor.ref.id, span)
        await ctx.reply(
            Message(
                title=f"Your activity {span.label()}",
                fields=(
                    ("Messages", str(mine.messages)),
                    ("Replies to others", str(mine.replies)),
                    ("Questions", str(mine.questions)),
                    ("Reactions", str(mine.reactions)),
                    ("Active days", str(mine.active_days)),
                ),
            ),
            ephemeral=True,
        )

    # -- privacy -------------------------------------------------------------------------------

    @command("optout")
    async def optout(self, ctx: Ctx) -> None:
        """Stop tracking your activity and delete what is stored about you."""
        if ctx.actor.ref.id in self.ingest.opted_out.get(ctx.community.key, ()):
            await ctx.reply(
                "You are already opted out: nothing is tracked about you. "
                "`/engagement optin` turns tracking back on.",
                ephemeral=True,
            )
            return
        await self.forget_member(ctx, ctx.actor.ref)
        await ctx.reply(
            "Done: your activity is no longer tracked and what was stored about you is deleted. "
            "`/engagement optin` turns tracking back on.",
            ephemeral=True,
        )

    async def forget_member(self, ctx: Context[EngagementSettings], user: UserRef) -> None:
        """Opt the member out and delete what is stored about them (events, rollups)."""
        community = ctx.community.key
        await ctx.commit()  # the writer needs the write lock on SQLite
        await self.ingest.forget(community, user.id)  # what is in flight lands before the delete
        await _admin.forget(ctx.uow.session, community, user.id, ctx.clock.now())
        await ctx.commit()

    @command("optin")
    async def optin(self, ctx: Ctx) -> None:
        """Let your activity count in the community's figures again."""
        await _admin.opt_in(ctx.uow.session, ctx.community.key, ctx.actor.ref.id)
        await ctx.commit()
        self.ingest.opted_out[ctx.community.key].discard(ctx.actor.ref.id)
        await ctx.reply("Your activity counts again from now on.", ephemeral=True)

    @command("export", requires=Level.ADMIN)
    async def export(self, ctx: Ctx) -> None:
        """A CSV of the daily figures per channel (aggregates only)."""
        await flushed(ctx, self.ingest)
        names = await ctx.port.channel_names(ctx.community)
        data = await _admin.export_csv(ctx.uow.session, ctx.community.key, names)
        await ctx.reply(
            Message(
                text="Daily figures per channel (members counted, nobody named).",
                files=(Attachment("engagement.csv", data),),
            ),
            ephemeral=True,
        )

    # -- digest and expiry ---------------------------------------------------------------------

    @job(cron="0 * * * *")
    async def digest(self, ctx: JobContext[EngagementSettings]) -> None:
        """The weekly digest, at the configured local day and hour."""
        await send_digest(ctx, self.ingest)

    @job(cron="20 3 * * *")
    async def expire(self, ctx: JobContext[EngagementSettings]) -> None:
        """Delete raw events older than the retention setting (rollups are kept)."""
        before = ctx.clock.now() - timedelta(days=ctx.settings.raw_retention_days)
        await _admin.expire_raw(ctx.uow.session, ctx.community.key, before)
