"""What managers set up and read: rules, welcome, interests, the buddy pool, funnel and status."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from bot.core import (
    Attachment,
    Button,
    ChannelRef,
    CommandContext,
    CommunityRef,
    Member,
    Message,
    RoleRef,
    UserError,
    mention,
    plural,
)
from bot.core.parsing import parse_channel, parse_role
from bot.core.templates import parse_template
from cogs.onboarding._chart import funnel_png
from cogs.onboarding._funnel import STAGES, Journey, cohorts
from cogs.onboarding._ladder import Step
from cogs.onboarding._models import OnboardingBuddy, OnboardingInterest, OnboardingMember
from cogs.onboarding._service import Flow
from cogs.onboarding._texts import (
    FIELDS,
    MAX_RULES,
    interest_label,
    nudge_text,
    onboarding_message,
    status_fields,
    welcome_template,
    welcome_text,
)
from cogs.onboarding.settings import OnboardingSettings

Ctx = CommandContext[OnboardingSettings]
DEFAULT_PERIOD = timedelta(weeks=8)


async def set_rules(ctx: Ctx, text: str) -> None:
    """Store the rules text."""
    text = text.strip()
    if not text:
        raise UserError("Give the rules text, like `/onboarding rules set Be kind. No spam.`")
    if len(text) > MAX_RULES:
        raise UserError(f"Keep the rules under {MAX_RULES} characters.")
    flow = Flow(ctx)
    await flow.setup_changed()
    config = await flow.repo.config(flow.now)
    config.rules_text = text
    config.updated_at = flow.now
    await ctx.reply(Message(text="Rules saved. Newcomers will see:", fields=(("Rules", text),)))


async def set_welcome(ctx: Ctx, template: str) -> None:
    """Check and store the welcome template; a mistake is shown now, never at join time."""
    parsed = parse_template(template.strip(), FIELDS)
    flow = Flow(ctx)
    await flow.setup_changed()
    config = await flow.repo.config(flow.now)
    config.welcome_template = parsed.source
    config.updated_at = flow.now
    sample = await sample_welcome(flow, ctx.actor, parsed.source, config.rules_text)
    await ctx.reply(f"Welcome saved. A newcomer would see:\n{sample}")


async def sample_welcome(flow: Flow, member: Member, source: str | None, rules: str | None) -> str:
    """The welcome rendered for ``member`` (no ping: it is only shown to a manager), with the
    community's real head count."""
    count = await flow.ctx.port.count_members(flow.ctx.community)
    return welcome_text(
        welcome_template(source),
        member=member.display_name,
        community=flow.s.community_name,
        member_count=count,
        rules=rules,
        intro_channel=flow.intro_mention(),
        buddy=None,
    )


def parse_opens(text: str, community: CommunityRef) -> tuple[RoleRef | None, ChannelRef | None]:
    """A role (or user group) and a channel from mentions, in either order."""
    role: RoleRef | None = None
    channel: ChannelRef | None = None
    for word in text.replace(",", " ").split():
        if word.startswith("<#"):
            channel = parse_channel(word, community)
        elif word.startswith(("<@&", "<!subteam")):
            role = parse_role(word, community)
        else:
            raise UserError(
                f"`{word[:40]}` is neither a role nor a channel; mention them: @python #python."
            )
    return role, channel


async def add_interest(
    ctx: Ctx, name: str, emoji: str | None, role: RoleRef | None, channel: ChannelRef | None
) -> None:
    """Add or update an interest."""
    name = name.strip()
    if not 1 <= len(name) <= 80:
        raise UserError("Give the interest a name of 1 to 80 characters.")
    flow = Flow(ctx)
    await flow.setup_changed()
    interest = await flow.repo.interest(name)
    if interest is None:
        if len(await flow.repo.interests()) >= 25:
            raise UserError("There can be at most 25 interests; remove one first.")
        interest = OnboardingInterest(community_id=ctx.community.key, name=name)
        ctx.uow.session.add(interest)
    interest.emoji = None if (emoji or "-").strip() in ("-", "none") else (emoji or "")[:64]
    interest.role_id = role.id if role else None
    interest.channel_id = channel.id if channel else None
    grants = [mention(r) for r in (role, channel) if r is not None]
    opens = f" Picking it gives {' and '.join(grants)}." if grants else ""
    await ctx.reply(f"Interest {interest_label(interest)} saved.{opens}")


async def remove_interest(ctx: Ctx, name: str) -> None:
    """Remove an interest (members' picks of it go too)."""
    flow = Flow(ctx)
    interest = await flow.repo.interest(name.strip())
    if interest is None:
        raise UserError(f"There is no interest called `{name[:40]}`.")
    await flow.setup_changed()
    await ctx.uow.session.delete(interest)
    await ctx.reply(f"Interest {interest.name} removed.")


async def list_interests(ctx: Ctx) -> None:
    """Every interest and what it grants."""
    interests = await Flow(ctx).repo.interests()
    if not interests:
        raise UserError("No interests yet. Add one with `/onboarding interest add <name>`.")
    fields = []
    for i in interests:
        grants = [f"role {mention(RoleRef(ctx.community, i.role_id))}"] if i.role_id else []
        if i.channel_id:
            grants.append(f"channel {mention(ChannelRef(ctx.community, i.channel_id))}")
        fields.append((interest_label(i), ", ".join(grants) or "nothing granted"))
    await ctx.reply(Message(title="Interests", fields=tuple(fields)))


async def buddy(ctx: Ctx, action: str, capacity: int | None) -> None:
    """Join, leave, pause or resume the buddy pool."""
    flow = Flow(ctx)
    await flow.setup_changed()
    entry = await flow.repo.buddy(ctx.actor.ref.id)
    if action == "join":
        if capacity is not None and not 1 <= capacity <= 50:
            raise UserError("Capacity is how many newcomers at once: a number from 1 to 50.")
        if entry is None:
            entry = OnboardingBuddy(
                community_id=ctx.community.key,
                user_id=ctx.actor.ref.id,
                joined_at=flow.now,
                paused=False,
            )
            ctx.uow.session.add(entry)
        entry.paused = False
        entry.capacity = capacity if capacity is not None else entry.capacity
        size = entry.capacity or flow.s.buddy_capacity
        await ctx.reply(
            "Thanks! You're in the buddy pool and will look after up to "
            f"{plural(size, 'newcomer')} at once."
        )
        return
    if entry is None:
        raise UserError("You're not in the buddy pool. Join with `/onboarding buddy join`.")
    if action == "leave":
        await ctx.uow.session.delete(entry)
        await ctx.reply("You've left the buddy pool. Your current newcomers keep you as buddy.")
    elif action == "pause":
        entry.paused = True
        await ctx.reply("Paused: no new newcomers for you until `/onboarding buddy join`.")


async def show_pool(ctx: Ctx) -> None:
    """The buddy pool with each buddy's load."""
    flow = Flow(ctx)
    pool = await flow.repo.pool()
    if not pool:
        raise UserError("The buddy pool is empty; members join with `/onboarding buddy join`.")
    loads = await flow.repo.loads(flow.now - flow.s.buddy_check_after)
    lines = []
    for b in sorted(pool, key=lambda b: b.joined_at):
        size = b.capacity or flow.s.buddy_capacity
        state = " (paused)" if b.paused else ""
        load = loads.get(b.user_id, 0)
        lines.append(f"{mention(flow.user(b.user_id))}{state}: {load}/{size}")
    await ctx.reply(Message(title="Buddy pool", text="\n".join(lines)))


async def funnel(ctx: Ctx, period: timedelta | None) -> None:
    """Weekly cohorts, counts and a chart."""
    flow = Flow(ctx)
    since = flow.now - (period or DEFAULT_PERIOD)
    rows = await flow.repo.members_since(since)
    quiet = await flow.quiet()
    found = cohorts((journey(r) for r in rows), quiet.tz, since)
    if not found:
        raise UserError("Nobody joined in that period yet.")
    fields = tuple(
        (
            f"week of {c.week:%Y-%m-%d}",
            " · ".join(f"{label} {n}" for (_key, label), n in zip(STAGES, c.counts, strict=True)),
        )
        for c in found
    )
    chart = Attachment("onboarding-funnel.png", funnel_png(found), "Onboarding funnel")
    await ctx.reply(Message(title="Onboarding funnel", fields=fields, files=(chart,)))


def journey(row: OnboardingMember) -> Journey:
    """A member's row as the funnel sees it."""
    return Journey(
        row.joined_at,
        row.rules_at,
        row.interests_at,
        row.intro_at,
        row.first_reply_at,
        row.day7_active_at,
    )


async def status(ctx: Ctx, member: Member, *, own: bool) -> None:
    """One member's progress."""
    flow = Flow(ctx)
    row = await flow.repo.member(member.ref.id)
    if row is None:
        who = "You haven't" if own else f"{member.display_name} hasn't"
        raise UserError(f"{who} been through onboarding here.")
    picked_ids = await flow.repo.picks(row.user_id)
    picked = [i for i in await flow.repo.interests() if i.id in picked_ids]
    buddy = mention(flow.user(row.buddy_id)) if row.buddy_id else None
    quiet = await flow.quiet()
    title = "Your onboarding" if own else f"{member.display_name}'s onboarding"
    await ctx.reply(Message(title=title, fields=status_fields(row, picked, buddy, quiet.tz)))


async def preview(ctx: Ctx, page: int) -> None:
    """One page of the walk-through; nothing is recorded."""
    flow = Flow(ctx)
    config = await flow.repo.peek_config()
    rules = config.rules_text if config else None
    interests = await flow.repo.interests()
    welcome = await sample_welcome(
        flow, ctx.actor, config.welcome_template if config else None, rules
    )
    nxt = (Button("preview", "Next ▸", value=str(page + 1), style="primary"),)
    if page <= 1:
        where = {
            "both": "in the welcome channel and by DM",
            "channel": "in the welcome channel",
            "dm": "by DM",
        }[flow.s.welcome_where]
        await ctx.reply(
            Message(
                title="Preview 1/3: the welcome (nothing is recorded)",
                text=f"A newcomer is welcomed {where}:\n{welcome}",
                buttons=nxt,
            )
        )
    elif page == 2:
        shown = onboarding_message(
            "Preview 2/3: what the newcomer gets privately.",
            rules=rules,
            agreed=False,
            interests=interests,
            intro_channel=flow.intro_mention(),
            preview=True,
        )
        await ctx.reply(dataclasses.replace(shown, buttons=shown.buttons + nxt))
    else:
        ladder = await flow.ladder()
        lines = []
        for step in Step:
            delay = ladder.delay(step)
            if delay is None:
                continue
            said = (
                "the greeters are alerted"
                if step is Step.SILENT
                else nudge_text(step, flow.intro_mention())
            )
            lines.append((f"{step.value}, after {_span(delay)}", said))
        lines.append(("buddy", "If the buddy pool has room, a buddy is introduced to them by DM."))
        await ctx.reply(
            Message(
                title="Preview 3/3: reminders if a step stays open (end of preview)",
                fields=tuple(lines),
            )
        )


def _span(delay: timedelta) -> str:
    hours = int(delay.total_seconds() // 3600)
    return plural(hours // 24, "day") if hours >= 48 else plural(hours, "hour")
