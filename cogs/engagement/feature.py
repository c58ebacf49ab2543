"""Engagement: what members do, stored as metadata, rolled up per day, reported to managers."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from bot.core import (
    Attachment,
    ChannelRef,
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
from cogs.engagement import _admin, _repo
from cogs.engagement._channels import channel_of
from cogs.engagement._charts import activity_chart, charts, sentiment_chart
from cogs.engagement._ingest import TRACKED, Ingest
from cogs.engagement._keys import link, position_at, time_of
from cogs.engagement._metrics import Period, day_of, week_of
from cogs.engagement._models import EngagementDigest
from cogs.engagement._newcomers import point_at_intro
from cogs.engagement._periods import UNITS, PeriodError, parse_period
from cogs.engagement._questions import OpenQuestion, open_questions
from cogs.engagement._report import (
    RETENTION_HEADER,
    digest_fields,
    open_summary,
    pages,
    question_lines,
    retention_lines,
    summary,
)
from cogs.engagement.settings import EngagementSettings
from cogs.onboarding.events import StepCompleted

Ctx = CommandContext[EngagementSettings]
HISTORY_PAGE = 200
CATCH_UP_WINDOW = timedelta(days=7)
"""How far back catch-up reads a channel with nothing stored yet, and how far before a Slack
channel's last stored message it looks again for replies in older threads (at start/reconnect)."""
CATCH_UP_PAGES = 10
"""At most this many pages (of HISTORY_PAGE messages) per channel and pass; the next pass goes on
from the last stored message."""


class Engagement(Feature, name="engagement"):
    """Engagement tracking and community health reports."""

    Settings = EngagementSettings
    port_calls = frozenset({"channels", "channel_names", "history"})

    def __init__(self, *, flush_after: float = 0.1, max_batch: int = 5000) -> None:
        """``flush_after``: the longest an event waits in the buffer while the writer is busy
        (seconds; when it is not, events leave at once)."""
        self.flush_after = flush_after
        self.max_batch = max_batch
        self._ingest: Ingest | None = None
        self._catching: set[str] = set()

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
            max_batch=self.max_batch,
            flush_after=self.flush_after,
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

    # -- ingest --------------------------------------------------------------------------------

    @on(Event, inline=True)
    async def track(self, event: Event) -> None:
        """Buffer a tracked event; the writer stores it within ``flush_after``."""
        if isinstance(event, TRACKED):
            self.ingest.offer(event)

    @on(StepCompleted)
    async def newcomer_step(self, ctx: Context[EngagementSettings], event: StepCompleted) -> None:
        """Point members at a newcomer's intro (``greet_intros``)."""
        await point_at_intro(ctx, event)

    @on(PlatformReady)
    async def ready(self, ctx: Context[EngagementSettings], event: PlatformReady) -> None:
        """Catch up at once when Steward (re)connects to a community, not 10 minutes later."""
        await ctx.commit()
        await self.ingest.prepare(ctx.community.key)
        await self._catch_up(ctx, threads=True)

    @job(every=timedelta(minutes=10))
    async def catch_up(self, ctx: JobContext[EngagementSettings]) -> None:
        """Fetch what was posted while Steward was away, from each channel's last stored message."""
        await self._catch_up(ctx, threads=False)

    async def _catch_up(self, ctx: Context[EngagementSettings], *, threads: bool) -> None:
        """Read each channel's history after its last stored message and store what is missing.

        A channel with nothing stored yet is read from ``CATCH_UP_WINDOW`` ago, on both
        platforms (an empty Slack channel answers an empty history page). With ``threads`` (at
        start and reconnect), channels are read again from ``CATCH_UP_WINDOW`` before their
        last stored message, so replies posted meanwhile in older Slack threads and reactions
        added to older messages are found too. Replays are harmless: every event has an
        idempotency key.
        """
        key = ctx.community.key
        if key in self._catching:
            return
        self._catching.add(key)
        try:
            platform = ctx.community.platform
            window = position_at(platform, ctx.clock.now() - CATCH_UP_WINDOW)
            # The handler's unit of work must not hold a transaction (on SQLite, the write
            # lock: reading the settings may have begun one) while the flushes below write.
            await ctx.commit()
            async with self.ingest.db.uow() as uow:
                stored = await _admin.cursors(uow.session, key)
            for channel in await ctx.port.channels(ctx.community):
                cursor = stored.get(channel.id)
                if cursor is None:
                    starts = [window]
                elif threads:
                    # What follows the cursor first, then the week before it again: replies in
                    # older Slack threads, and reactions added meanwhile to older messages
                    # (both platforms list a message's reactions with it).
                    back = time_of(platform, cursor) - CATCH_UP_WINDOW
                    starts = [cursor, position_at(platform, back)]
                else:
                    starts = [cursor]
                for after in starts:
                    await self._read(ctx, channel, after)
        finally:
            self._catching.discard(key)

    async def _read(
        self, ctx: Context[EngagementSettings], channel: ChannelRef, after: str
    ) -> None:
        """Up to CATCH_UP_PAGES pages of a channel's history after a message, stored.

        One request to the port for the whole pass: it pages itself (Discord oldest first,
        Slack from the newest back to ``after``). Asking page by page would stop early when a
        page held joins or other skipped messages, and on Slack read the backlog again for
        every page.
        """
        found = await ctx.port.history(channel, after, HISTORY_PAGE * CATCH_UP_PAGES)
        for event in found:
            self.ingest.offer(event, at=event.at)
        await self.ingest.flush()

    async def _flush(self, ctx: Context[EngagementSettings]) -> None:
        """Write what is buffered, after ending the handler's transaction.

        The writer uses a connection of its own; on SQLite a transaction the handler began (even
        by reading its settings) holds the write lock it would wait for.
        """
        await ctx.commit()
        await self.ingest.flush()

    # -- reports -------------------------------------------------------------------------------

    def _period(self, ctx: Ctx, text: str) -> Period:
        try:
            return parse_period(text, day_of(ctx.clock.now()))
        except PeriodError as exc:
            raise UserError(str(exc)) from None

    async def _open(
        self, ctx: Ctx | JobContext[EngagementSettings]
    ) -> tuple[list[OpenQuestion], list[str]]:
        """Every open question, and a line with a link for each."""
        await self._flush(ctx)
        found = await open_questions(ctx.uow.session, ctx.community.key)
        where = ctx.community
        links = [
            link(where.platform, where.id, q.channel_id, q.message_id, q.thread_id) for q in found
        ]
        return found, question_lines(found, links)

    @command("report", requires=Level.MOD)
    async def report(
        self,
        ctx: Ctx,
        period: Annotated[str, "Like 7d, 4w, 3 months or 2026-01-01..2026-01-31"] = "30d",
        channel: Annotated[str | None, "Only this channel, like #general"] = None,
    ) -> None:
        """Community health for a period, with charts."""
        await self._flush(ctx)
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
        found, lines = await self._open(ctx)
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
        await self._flush(ctx)
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
        await self._flush(ctx)
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
        settings = ctx.settings
        if settings.digest_channel is None and not settings.digest_dms:
            return
        now = ctx.clock.now()
        local = now.astimezone((await ctx.community_settings()).tz())
        if local.weekday() != settings.digest_weekday or local.hour != settings.digest_hour:
            return
        today = day_of(now)
        week = week_of(today)
        session = ctx.uow.session
        if await session.get(EngagementDigest, (ctx.community.key, week)) is not None:
            return
        session.add(EngagementDigest(community_id=ctx.community.key, week=week, sent_at=now))
        await ctx.commit()
        await self._flush(ctx)
        span = Period(today - 7, today - 1)
        this, last = (
            await _repo.figures(session, ctx.community.key, span, today=today),
            await _repo.figures(session, ctx.community.key, span.before(), today=today),
        )
        found, lines = await self._open(ctx)
        head = f"Unanswered questions ({open_summary(found, now)}):"
        texts = pages([head, *lines]) if found else ["No open questions."]
        message = Message(
            title=f"Weekly engagement {span.label()}",
            text=texts[0],
            fields=digest_fields(this, last),
            files=await charts(this, activity_chart),
        )
        rest = [Message(text=t) for t in texts[1:]]
        if settings.digest_channel is not None:
            for part in (message, *rest):
                await ctx.port.send(settings.digest_channel, part)
        for manager in settings.digest_dms:
            try:
                sent = await ctx.port.dm(manager, message)
                for part in rest:
                    if sent is not None:
                        await ctx.port.dm(manager, part)
            except Exception:
                sent = None
                ctx.log.exception("the digest DM to %s failed", manager.id)
            if sent is None:
                ctx.log.warning("%s did not get the digest (DMs closed?)", manager.id)

    @job(cron="20 3 * * *")
    async def expire(self, ctx: JobContext[EngagementSettings]) -> None:
        """Delete raw events older than the retention setting (rollups are kept)."""
        before = ctx.clock.now() - timedelta(days=ctx.settings.raw_retention_days)
        await _admin.expire_raw(ctx.uow.session, ctx.community.key, before)
