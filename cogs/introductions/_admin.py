"""What managers see: the pool's numbers, rounds with their met rate, and the do-not-pair list."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from bot.core import Attachment, CommandContext, Message, UserRef, mention, plural
from cogs.introductions._chart import rounds_png
from cogs.introductions._pool import Pool
from cogs.introductions._repo import MODS, Repo
from cogs.introductions._rounds import Answer
from cogs.introductions._service import ROUND_KEY, Rounds, when
from cogs.introductions._stats import PastRound, kept_talking, round_lines
from cogs.introductions.settings import IntroductionsSettings

Ctx = CommandContext[IntroductionsSettings]


async def stats(ctx: Ctx, period: timedelta) -> Message:
    """Rounds in the period: people, groups and the met rate, then pairs who kept talking."""
    repo = Repo(ctx.uow.session, ctx.community)
    now = ctx.clock.now()
    rounds = await repo.rounds_since(now - period)
    pool = await Pool(ctx, repo, now).members()
    active = sum(1 for m in pool if m.paused_until is None)
    head = f"Introductions: {plural(len(pool), 'member')} in the pool ({active} not paused)."
    if not rounds:
        return Message(text=head + "\nNo rounds in that period yet.")
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
    table = round_lines(past, now - period)
    for r, line in zip(rounds, table, strict=True):
        lines.append(
            f"Round {r.number} ({r.started_at:%Y-%m-%d}): {plural(line.people, 'person', 'people')}"
            f" in {plural(line.groups, 'group')}, met in {line.met} ({line.met_rate:.0%})"
            + ("" if r.closed else ", still running")
        )
    talks = [(t.low_id, t.high_id, t.last_at) for t in await repo.talks()]
    lines.append(f"Pairs who talked in the community after meeting: {kept_talking(past, talks)}.")
    chart = Attachment("introductions-rounds.png", rounds_png(table), "Introductions by round")
    return Message(text="\n".join(lines), files=(chart,))


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


async def overview(ctx: Ctx) -> str:
    """The schedule and the settings as they stand, in words."""
    repo = Repo(ctx.uow.session, ctx.community)
    s = ctx.settings
    config = await repo.peek_config()
    due = await ctx.timers.due_at(ROUND_KEY)
    running = config is not None and config.running
    schedule = await Rounds(ctx).schedule()
    state = f"on; next round {when(due, schedule)}" if running and due else "off (`start`)"
    where = mention(s.thread_channel) if s.thread_channel else "not set"
    thanks = mention(s.thanks_channel) if s.thanks_channel else "not set (thank-yous stay private)"
    return "\n".join(
        [
            f"Introductions are {state}.",
            f"Cadence: {s.cadence} at {s.round_time:%H:%M} (the community's time zone).",
            f"Groups of {s.group_size}, mode {s.mode}, no repeats within "
            f"{plural(s.history_rounds, 'round')}.",
            f"Discord threads in: {where}. Thank-yous shown in: {thanks}.",
            "Pool: members who join"
            + (f", and everyone in {mention(s.pool_channel)}" if s.pool_channel else "")
            + f". Newcomers offered a place: {'yes' if s.offer_newcomers else 'no'}.",
            "Change them with `/steward settings set introductions <key> <value>`.",
        ]
    )


async def history(ctx: Ctx, user: UserRef, rounds: int = 8) -> str:
    """Whom a member met in the last few rounds, and what they answered."""
    repo = Repo(ctx.uow.session, ctx.community)
    last = await repo.latest_round()
    if last is None:
        return "No rounds yet."
    seats = await repo.recent_groups(rounds, last.number + 1)
    mine = {s.group_id: s for s in seats if s.user_id == user.id}
    if not mine:
        return f"{mention(user)} wasn't in the last {plural(rounds, 'round')}."
    numbers = await repo.round_numbers(s.round_id for s in mine.values())
    lines = [f"{mention(user)}'s introductions:"]
    for group_id, seat in sorted(mine.items(), key=lambda kv: numbers.get(kv[1].round_id, 0)):
        others = [
            mention(UserRef(ctx.community, s.user_id))
            for s in seats
            if s.group_id == group_id and s.user_id != user.id
        ]
        answer = (seat.answer or "no answer yet").replace("_", " ")
        lines.append(f"Round {numbers.get(seat.round_id, '?')}: {', '.join(others)} ({answer})")
    return "\n".join(lines)
