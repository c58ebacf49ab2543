"""The weekly digest and the list of open questions both the digest and ``unanswered`` show."""

from __future__ import annotations

from datetime import timedelta

from bot.core import Context, JobContext, Message
from cogs.engagement import _moderation, _repo
from cogs.engagement._announcements import digest_line
from cogs.engagement._catchup import flushed
from cogs.engagement._charts import activity_chart, charts
from cogs.engagement._ingest import Ingest
from cogs.engagement._introductions import digest_line as intro_line
from cogs.engagement._keys import link
from cogs.engagement._metrics import Period, day_of, week_of
from cogs.engagement._models import EngagementDigest
from cogs.engagement._questions import OpenQuestion, open_questions
from cogs.engagement._report import digest_fields, open_summary, pages, question_lines
from cogs.engagement.settings import EngagementSettings


async def open_with_links(
    ctx: Context[EngagementSettings], ingest: Ingest
) -> tuple[list[OpenQuestion], list[str]]:
    """Every open question, and a line with a link for each."""
    await flushed(ctx, ingest)
    found = await open_questions(ctx.uow.session, ctx.community.key)
    where = ctx.community
    links = [link(where.platform, where.id, q.channel_id, q.message_id, q.thread_id) for q in found]
    return found, question_lines(found, links)


async def send_digest(ctx: JobContext[EngagementSettings], ingest: Ingest) -> None:
    """The weekly digest, at the configured local day and hour (once per week)."""
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
    await flushed(ctx, ingest)
    span = Period(today - 7, today - 1)
    this, last = (
        await _repo.figures(session, ctx.community.key, span, today=today),
        await _repo.figures(session, ctx.community.key, span.before(), today=today),
    )
    found, lines = await open_with_links(ctx, ingest)
    head = f"Unanswered questions ({open_summary(found, now)}):"
    texts = pages([head, *lines]) if found else ["No open questions."]
    fields = digest_fields(this, last)
    announced = await digest_line(session, ctx.community.key, now - timedelta(days=7), now)
    if announced is not None:
        fields += (("Announcements", announced),)
    introduced = await intro_line(session, ctx.community.key, now - timedelta(days=7), now)
    if introduced is not None:
        fields += (("Introductions", introduced),)
    moderated = await _moderation.digest_line(session, ctx.community.key, now)
    if moderated is not None:
        fields += (("Moderation", moderated),)
    message = Message(
        title=f"Weekly engagement {span.label()}",
        text=texts[0],
        fields=fields,
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
