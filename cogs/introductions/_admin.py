"""What managers see: the pool's numbers, rounds with their met rate, and the do-not-pair list."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from bot.core import CommandContext, UserRef, mention, plural
from cogs.introductions._repo import MODS, Repo
from cogs.introductions._rounds import Answer
from cogs.introductions._stats import PastRound, kept_talking, round_lines
from cogs.introductions.settings import IntroductionsSettings

Ctx = CommandContext[IntroductionsSettings]


async def stats(ctx: Ctx, period: timedelta) -> str:
    """Rounds in the period: people, groups and the met rate, then pairs who kept talking."""
    repo = Repo(ctx.uow.session, ctx.community)
    now = ctx.clock.now()
    rounds = await repo.rounds_since(now - period)
    pool = await repo.opted_in()
    active = sum(1 for m in pool if m.paused_until is None)
    head = f"Introductions: {plural(len(pool), 'member')} in the pool ({active} not paused)."
    if not rounds:
        return head + "\nNo rounds in that period yet."
    seats = await repo.seats_of_rounds(r.id for r in rounds)
    groups: dict[int, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    answers: dict[int, dict[str, Answer]] = defaultdict(dict)
    for seat in seats:
        groups[seat.round_id][seat.group_id].append(seat.user_id)
        if seat.answer is not None:
            answers[seat.round_id][seat.user_id] = Answer(seat.answer)
    past = [
        PastRound(r.started_at, [tuple(g) for g in groups[r.id].values()], answers[r.id])
        for r in rounds
    ]
    lines = [head]
    for r, line in zip(rounds, round_lines(past, now - period), strict=True):
        lines.append(
            f"Round {r.number} ({r.started_at:%Y-%m-%d}): {plural(line.people, 'person', 'people')}"
            f" in {plural(line.groups, 'group')}, met in {line.met} ({line.met_rate:.0%})"
            + ("" if r.closed else ", still running")
        )
    talks = [(t.low_id, t.high_id, t.last_at) for t in await repo.talks()]
    lines.append(f"Pairs who talked in the community after meeting: {kept_talking(past, talks)}.")
    return "\n".join(lines)


async def blocked(ctx: Ctx) -> str:
    """The moderators' do-not-pair list."""
    repo = Repo(ctx.uow.session, ctx.community)
    pairs = await repo.avoided_by(MODS)
    if not pairs:
        return "The moderators' do-not-pair list is empty."
    who = [
        f"{mention(UserRef(ctx.community, a))} and {mention(UserRef(ctx.community, b))}"
        for a, b in pairs
    ]
    return "Never put together:\n" + "\n".join(f"• {w}" for w in who)
