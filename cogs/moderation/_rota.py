"""The weekly duty schedule: hour ranges per weekday, in the community's time zone.

A moderator on duty by schedule is pinged by a new report exactly like one who went on duty by
hand. A range whose end is at or before its start runs past midnight into the next day.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.core import Context, UserError, UserRef
from cogs.moderation._models import ModerationDutySlot
from cogs.moderation.settings import ModerationSettings

Ctx = Context[ModerationSettings]
Day = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
DAYS: tuple[Day, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
_RANGE = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")
WEEK = 7 * 24 * 60
MAX_SLOTS = 28
"""Ranges one moderator may keep."""


def parse_range(text: str) -> tuple[int, int]:
    """``09:00-17:00`` as minutes after midnight; ``UserError`` in words for the moderator."""
    found = _RANGE.fullmatch(text)
    if found is None:
        raise UserError("Write the hours like `09:00-17:00` (24-hour clock, local time).")
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59 or (h1 == 24 and m1) or (h2 == 24 and m2):
        raise UserError("Hours go from 00:00 to 24:00.")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if start == 24 * 60:
        raise UserError("A range starts before 24:00.")
    if start == end:
        raise UserError("A range needs a start and an end that differ.")
    return start, end


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def describe(slot: ModerationDutySlot) -> str:
    """``monday 09:00-17:00`` (with "next day" when it runs past midnight)."""
    late = " (to the next day)" if slot.end_minute <= slot.start_minute else ""
    return f"{DAYS[slot.weekday]} {_clock(slot.start_minute)}-{_clock(slot.end_minute)}{late}"


def covers(slot: ModerationDutySlot, local: datetime) -> bool:
    """Whether ``slot`` covers the local time ``local`` (minutes into the week, wrapping)."""
    now = local.weekday() * 24 * 60 + local.hour * 60 + local.minute
    start = slot.weekday * 24 * 60 + slot.start_minute
    length = (slot.end_minute - slot.start_minute) % (24 * 60) or 24 * 60
    return (now - start) % WEEK < length


async def _slots(ctx: Ctx, user: str | None = None) -> list[ModerationDutySlot]:
    query = select(ModerationDutySlot).where(ModerationDutySlot.community_id == ctx.community.key)
    if user is not None:
        query = query.where(ModerationDutySlot.user_id == user)
    rows = await ctx.uow.session.scalars(
        query.order_by(
            ModerationDutySlot.weekday, ModerationDutySlot.start_minute, ModerationDutySlot.id
        )
    )
    return list(rows)


async def scheduled_now(ctx: Ctx) -> list[UserRef]:
    """The moderators whose schedule has them on duty now (community time), in slot order."""
    zone: ZoneInfo = (await ctx.community_settings()).tz()
    local = ctx.clock.now().astimezone(zone)
    seen: dict[str, None] = {}
    for slot in await _slots(ctx):
        if covers(slot, local):
            seen.setdefault(slot.user_id)
    return [UserRef(ctx.community, u) for u in seen]


async def add(ctx: Ctx, user: UserRef, day: Day, hours: str) -> str:
    """Add a weekly range for ``user``."""
    start, end = parse_range(hours)
    weekday = DAYS.index(day)
    mine = await _slots(ctx, user.id)
    if any(s.weekday == weekday and s.start_minute == start for s in mine):
        raise UserError(f"<@{user.id}> already has a range starting {day} {_clock(start)}.")
    if len(mine) >= MAX_SLOTS:
        raise UserError(f"One moderator keeps at most {MAX_SLOTS} ranges.")
    slot = ModerationDutySlot(
        community_id=ctx.community.key,
        user_id=user.id,
        weekday=weekday,
        start_minute=start,
        end_minute=end % (24 * 60),
    )
    ctx.uow.session.add(slot)
    await ctx.uow.session.flush()
    zone = (await ctx.community_settings()).timezone
    return f"<@{user.id}> is on duty every {describe(slot)}, {zone} time."


async def remove(ctx: Ctx, user: UserRef, day: Day, hours: str) -> str:
    """Remove the range of ``user`` starting at that day and time."""
    start, _end = parse_range(hours)
    weekday = DAYS.index(day)
    found = [
        s for s in await _slots(ctx, user.id) if (s.weekday, s.start_minute) == (weekday, start)
    ]
    if not found:
        raise UserError(f"<@{user.id}> has no range starting {day} {_clock(start)}.")
    for slot in found:
        await ctx.uow.session.delete(slot)
    return f"Removed {describe(found[0])} from <@{user.id}>'s schedule."


async def listing(ctx: Ctx) -> str:
    """Everyone's weekly ranges, in the community's time zone."""
    rows = await _slots(ctx)
    zone = (await ctx.community_settings()).timezone
    if not rows:
        return f"Nobody has a duty schedule yet ({zone} time)."
    lines = [f"Duty schedule ({zone} time):"]
    lines += [f"<@{s.user_id}>: {describe(s)}" for s in rows]
    return "\n".join(lines)


async def forget(ctx: Ctx, user: UserRef) -> None:
    """A member leaves or asks to be forgotten: their weekly ranges go."""
    for slot in await _slots(ctx, user.id):
        await ctx.uow.session.delete(slot)
