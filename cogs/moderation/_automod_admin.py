"""Managing automod rules from chat: add, list, remove, dry run, test."""

from __future__ import annotations

from sqlalchemy import select

from bot.core import ChannelRef, CommunityRef, Context, RoleRef, UserError, mention
from cogs.moderation._automod import Posted, Screen
from cogs.moderation._cases import Ctx
from cogs.moderation._explain import consequence, explain
from cogs.moderation._models import ModerationAutomodRule
from cogs.moderation._rules import Action, Rule, RuleKind, RuleRefused, check_rule
from cogs.moderation.settings import ModerationSettings

MAX_RULES = 1000
_NUMBER_KINDS = (RuleKind.MENTIONS, RuleKind.NEWLINES, RuleKind.CAPS)
_RATE_KINDS = (RuleKind.FLOOD, RuleKind.REPEAT)


def to_rule(row: ModerationAutomodRule) -> Rule:
    """A stored rule as the screen takes it."""
    kind = RuleKind(row.kind)
    domains = kind in (RuleKind.LINK_ALLOW, RuleKind.LINK_DENY)
    return Rule(
        id=row.id,
        kind=kind,
        pattern="" if domains else row.pattern,
        domains=frozenset(row.pattern.lower().split()) if domains else frozenset(),
        limit=row.limit,
        seconds=row.seconds,
        action=Action(row.action),
        points=row.points,
        dry_run=row.dry_run,
        exempt_roles=frozenset((row.exempt_roles or "").split()),
        exempt_channels=frozenset((row.exempt_channels or "").split()),
    )


def parse(kind: RuleKind, value: str) -> tuple[str, int, int]:
    """(pattern, limit, seconds) from what a manager typed for a rule of ``kind``."""
    value = value.strip()
    try:
        if kind in _NUMBER_KINDS:
            return "", int(value.rstrip("%")), 0
        if kind in _RATE_KINDS:
            count, _, window = value.partition(" in ")
            return "", int(count), int(window.strip().rstrip("s"))
    except ValueError:
        shape = "a number, like 5" if kind in _NUMBER_KINDS else "like `5 in 10s`"
        raise UserError(f"A {kind.value} rule takes {shape}.") from None
    return ("" if kind is RuleKind.INVITE else value), 0, 0


async def rules(ctx: Context[ModerationSettings]) -> list[ModerationAutomodRule]:
    """The community's rules, oldest first."""
    found = await ctx.uow.session.scalars(
        select(ModerationAutomodRule)
        .where(ModerationAutomodRule.community_id == ctx.community.key)
        .order_by(ModerationAutomodRule.id)
    )
    return list(found)


async def add(ctx: Ctx, kind: RuleKind, value: str, action: Action, points: int) -> Rule:
    """Check a new rule and save it in dry run; a rule that cannot work is refused, saying why."""
    pattern, limit, seconds = parse(kind, value)
    row = ModerationAutomodRule(
        community_id=ctx.community.key,
        kind=kind.value,
        pattern=pattern,
        limit=limit,
        seconds=seconds,
        action=action.value,
        points=points,
        created_by=ctx.actor.ref.id,
        created_at=ctx.clock.now(),
        dry_run=True,
    )
    try:
        check_rule(to_rule(row))
    except RuleRefused as refused:
        raise UserError(f"I can't save that rule. {refused}") from None
    if len(await rules(ctx)) >= MAX_RULES:
        raise UserError(f"A community can have at most {MAX_RULES} rules; remove one first.")
    ctx.uow.session.add(row)
    await ctx.uow.session.flush()
    return to_rule(row)


async def find(ctx: Ctx, rule_id: int) -> ModerationAutomodRule:
    """Rule ``rule_id`` of this community, or a friendly refusal."""
    row = await ctx.uow.session.get(ModerationAutomodRule, rule_id)
    if row is None or row.community_id != ctx.community.key:
        raise UserError(f"There is no rule #{rule_id}. `/moderation automod list` shows them.")
    return row


def describe(rule: Rule, community: CommunityRef) -> str:
    """One line about a rule, for the list."""
    what = {
        RuleKind.WORD: f'word "{rule.pattern}"',
        RuleKind.REGEX: f"pattern `{rule.pattern}`",
        RuleKind.INVITE: "invite links",
        RuleKind.LINK_DENY: f"links to {' '.join(sorted(rule.domains))}",
        RuleKind.LINK_ALLOW: f"links except to {' '.join(sorted(rule.domains))}",
        RuleKind.MENTIONS: f"{rule.limit}+ mentions",
        RuleKind.NEWLINES: f"{rule.limit}+ lines",
        RuleKind.CAPS: f"{rule.limit}%+ capitals",
        RuleKind.FLOOD: f"{rule.limit}+ messages in {rule.seconds}s",
        RuleKind.REPEAT: f"the same text {rule.limit}+ times in {rule.seconds}s",
    }[rule.kind]
    spared = [mention(RoleRef(community, r)) for r in sorted(rule.exempt_roles)]
    spared += [mention(ChannelRef(community, c)) for c in sorted(rule.exempt_channels)]
    unless = f" (not for {', '.join(spared)})" if spared else ""
    return f"#{rule.id} {what} → {consequence(rule)}{unless}"


async def exempt(
    ctx: Ctx, rule_id: int, on: bool, role: RoleRef | None, channel: ChannelRef | None
) -> Rule:
    """Spare (or stop sparing) a role's members or a channel from a rule."""
    if role is None and channel is None:
        raise UserError("Name a role, a channel, or both.")
    row = await find(ctx, rule_id)
    for column, ref in (("exempt_roles", role), ("exempt_channels", channel)):
        if ref is None:
            continue
        ids = set((getattr(row, column) or "").split())
        ids = ids | {ref.id} if on else ids - {ref.id}
        setattr(row, column, " ".join(sorted(ids)))
    return to_rule(row)


async def test(ctx: Ctx, text: str) -> list[str]:
    """Which rules ``text`` would fire, and why (nothing is recorded or done)."""
    screen = Screen(to_rule(r) for r in await rules(ctx))
    message = Posted(text, ctx.actor.ref.id, ctx.channel.id, 0.0)
    return explain(screen, message)
