"""Screening members' messages as they are posted: dry runs logged, hits opened as cases."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import timedelta

from bot.core import Capability, Context, MessagePosted
from cogs.moderation import _notify
from cogs.moderation._authority import Act, beyond_steward
from cogs.moderation._automod import CLEAN, Posted, Screen, Verdict
from cogs.moderation._automod_admin import rules, to_rule
from cogs.moderation._cases import own_standing, standing
from cogs.moderation._climb import climb
from cogs.moderation._explain import consequence, reason
from cogs.moderation._flood import Recent
from cogs.moderation._lifecycle import Move, Status
from cogs.moderation._models import ModerationCase
from cogs.moderation._repo import Repo
from cogs.moderation._rules import Action, Rule
from cogs.moderation.settings import ModerationSettings

Listen = Context[ModerationSettings]
AUTOMOD_TIMEOUT = timedelta(minutes=10)
"""How long a rule whose action is ``timeout`` silences the member."""


class Screening:
    """Each community's compiled rules and members' recent pace, held in memory.

    The compiled screen is rebuilt after a rule changes (``forget``); the text is screened in
    memory and stored only as evidence on a case.
    """

    def __init__(self) -> None:
        self._screens: dict[str, Screen] = {}
        self._recent: dict[str, Recent] = {}

    def forget(self, community: str) -> None:
        """Drop a community's compiled rules (they changed)."""
        self._screens.pop(community, None)

    def forget_author(self, community: str, author: str) -> None:
        """Drop what is held in memory about one member's recent messages."""
        recent = self._recent.get(community)
        if recent is not None:
            recent.forget(author)

    async def screen(self, ctx: Listen, event: MessagePosted) -> Verdict | None:
        """The verdict on a member's message (None: bots and communities without rules)."""
        if event.author.is_bot:
            return None
        key = ctx.community.key
        screen = self._screens.get(key)
        if screen is None:
            screen = self._screens[key] = Screen(to_rule(r) for r in await rules(ctx))
        if not screen.rules:
            return None
        posted = Posted(
            text=event.text,
            author=event.author.ref.id,
            channel=event.message.channel.id,
            at=ctx.clock.now().timestamp(),
            mentions=event.text.count("<@"),
        )
        hits = screen.scan(posted, self._recent.setdefault(key, Recent()))
        if not hits:  # most messages: the member's roles are never read
            return CLEAN
        verdict = screen.verdict(hits, posted.channel, (r.id for r in event.author.roles))
        for rule in verdict.dry_run:
            await _dry_run(ctx, rule, posted, event)
        for rule in verdict.enforced:
            await _enforce(ctx, rule, posted, event)
        return verdict


async def _dry_run(ctx: Listen, rule: Rule, posted: Posted, event: MessagePosted) -> None:
    """Record what a rule in dry run would have done (a mod-log line, nothing else)."""
    text = (
        f"Dry run: rule #{rule.id} would {consequence(_acting(rule))} for <@{posted.author}> "
        f"in <#{posted.channel}>: {reason(rule, posted)}"
    )
    await _notify.modlog_line(ctx, text, key=f"dry:{event.message.id}:{rule.id}")


def _acting(rule: Rule) -> Rule:
    """The same rule as if it were not in dry run (to say what it would do)."""
    return Rule(rule.id, rule.kind, action=rule.action, points=rule.points, timeout=rule.timeout)


async def _enforce(ctx: Listen, rule: Rule, posted: Posted, event: MessagePosted) -> None:
    """Open an automod case with the evidence, commit, then act as the rule says."""
    repo = Repo(ctx.uow.session, ctx.community)
    now = ctx.clock.now()
    why = f"rule #{rule.id}: {reason(rule, posted)}"
    points = rule.points if rule.action is Action.WARN else 0
    case = await repo.open(
        kind="automod",
        target=posted.author,
        actor=f"automod:{rule.id}",
        reason=why,
        points=points,
        status=Status.ACTIONED,
        at=now,
    )
    evidence = f"<#{posted.channel}> {now:%Y-%m-%d %H:%M} UTC: {posted.text}"
    await repo.record(
        case,
        move=Move.ACTION,
        before=Status.OPEN,
        after=Status.ACTIONED,
        actor=f"automod:{rule.id}",
        at=now,
        key=f"msg:{event.message.id}:{rule.id}",
        note=evidence,
    )
    await ctx.commit()
    done = "alerted the moderators"
    n = case.number
    # A Slack app may delete only its own messages (cant_delete_message): there it alerts.
    if rule.action is Action.DELETE and ctx.port.platform == "discord":
        if await _attempt(ctx, case, "delete the message", _delete(ctx, event, n)):
            done = "deleted the message"
        else:
            done = "could not delete the message"
    elif rule.action is Action.TIMEOUT and Capability.TIMEOUT in ctx.port.capabilities:
        until = now + AUTOMOD_TIMEOUT
        beyond = beyond_steward(Act.TIMEOUT, standing(event.author), await own_standing(ctx))
        if beyond is not None:  # refused before any platform call, as a moderator's would be
            await _notify.alert(ctx, f"Automod case #{n}: {beyond}", key=f"act:{n}")
            done = f"did not time the member out: {beyond}"
        elif await _attempt(
            ctx, case, "time the member out", ctx.port.timeout(event.author.ref, until, reason=why)
        ):
            done = "timed the member out for 10 minutes"
        else:
            done = "could not time the member out"
    elif rule.action is Action.WARN:
        await _notify.tell_member(ctx, case, event.author.ref)
        done = "warned the member"
        await climb(ctx, event.author.ref)
    await _notify.modlog(ctx, case, key="open", note=f"Automod {done}.")
    await ctx.commit()


def _delete(ctx: Listen, event: MessagePosted, number: int) -> Awaitable[None]:
    return ctx.port.delete_message(event.message, reason=f"Automod case #{number}")


async def _attempt(ctx: Listen, case: ModerationCase, what: str, call: Awaitable[None]) -> bool:
    """Do what the rule says; when the platform refuses, the staff are told once per case."""
    channel, _role = await _notify.staff_place(ctx)
    return await ctx.attempt(
        f"{what} (automod case #{case.number})",
        call,
        key=f"act:{case.number}",
        meanwhile="The case is on record.",
        channel=channel,
    )
