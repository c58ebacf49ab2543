"""What newcomers, buddies, greeters and managers read: messages built from plain values."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.core import (
    Button,
    CommunityRef,
    Message,
    Option,
    Select,
    UserRef,
    mention,
    plural,
    together,
)
from bot.core.templates import MAX_OUTPUT_CHARS, Template, parse_template, render
from cogs.onboarding._ladder import Step
from cogs.onboarding._models import OnboardingInterest, OnboardingMember

FIELDS = frozenset({"member", "community", "member_count", "rules", "intro_channel", "buddy"})
DEFAULT_WELCOME = "Welcome to {community}, {member}! We're glad you're here."
MAX_RULES = 1000
TOGETHER = "onboarding.welcome"
"""The kind of the public welcomes that a burst of joins shares (see :func:`welcome_together`)."""


def welcome_template(source: str | None) -> Template:
    """The stored template, or the default when none is stored or it no longer parses."""
    if source:
        try:
            return parse_template(source, FIELDS)
        except Exception:
            pass  # A template that stopped parsing never breaks a join: the default stands in.
    return parse_template(DEFAULT_WELCOME, FIELDS)


def welcome_text(
    template: Template,
    *,
    member: str,
    community: str,
    member_count: int | None,
    rules: str | None,
    intro_channel: str | None,
    buddy: str | None,
    limit: int = MAX_OUTPUT_CHARS,
) -> str:
    """The welcome, rendered: only the member and buddy fields are mentions."""
    values = {
        "community": community,
        "member_count": str(member_count) if member_count is not None else "many",
        "rules": rules or "",
        "intro_channel": intro_channel or "the intro channel",
    }
    mentions = {"member": member, "buddy": buddy or "a greeter"}
    return render(template, values, mentions=mentions, limit=limit)


def public_welcome(text: str, newcomers: Sequence[UserRef]) -> Message:
    """The welcome in the welcome channel: it pings the newcomers it names, and only them."""
    return Message(
        text=text,
        buttons=(Button("start", "Get started", style="primary"),),
        ping_users=frozenset(newcomers),
    )


def names(items: Sequence[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


@together(TOGETHER)
def welcome_together(community: CommunityRef, values: Sequence[dict[str, Any]]) -> Message:
    """One public welcome for newcomers whose welcomes waited for the channel together (a
    burst of joins): the manager's template with ``{member}`` naming them all. A buddy is
    named only when they all share it (each newcomer's DM names their own); the member count
    is the latest."""
    last = values[-1]
    users = [UserRef(community, str(v["member"])) for v in values]
    buddies = {v.get("buddy") for v in values}
    buddy = buddies.pop() if len(buddies) == 1 else None
    counts = [int(v["member_count"]) for v in values if v.get("member_count") is not None]
    text = welcome_text(
        welcome_template(last.get("template")),
        member=names([mention(u) for u in users]),
        community=str(last["community"]),
        member_count=max(counts) if counts else None,
        rules=last.get("rules"),
        intro_channel=last.get("intro_channel"),
        buddy=mention(UserRef(community, str(buddy))) if buddy else None,
        limit=10 * MAX_OUTPUT_CHARS,  # the outbox takes fewer newcomers when it is too long
    )
    return public_welcome(text, users)


def interest_label(interest: OnboardingInterest) -> str:
    """An interest's name with its emoji."""
    return f"{interest.emoji} {interest.name}" if interest.emoji else interest.name


def interests_select(interests: Sequence[OnboardingInterest], action: str = "pick") -> Select:
    """A multi-select of every interest."""
    options = tuple(Option(interest_label(i), str(i.id)) for i in interests[:25])
    return Select(
        action=action,
        options=options,
        placeholder="Pick your interests",
        min_values=1,
        max_values=len(options),
    )


def intro_line(intro_channel: str | None) -> str:
    """The invitation to post an intro."""
    if intro_channel is None:
        return ""
    return (
        f"When you're ready, introduce yourself in {intro_channel}: "
        "who you are and what brings you here."
    )


def onboarding_message(
    text: str,
    *,
    rules: str | None,
    agreed: bool,
    interests: Sequence[OnboardingInterest],
    intro_channel: str | None,
    preview: bool = False,
    interactive: bool = True,
    start_here: str | None = None,
) -> Message:
    """The newcomer's private welcome: rules with an "I agree" button, interests, the intro.

    Where buttons can't come back from a DM (a platform without ``DM_COMPONENTS``), it says where
    to press *Get started* instead."""
    lines = [text]
    fields: tuple[tuple[str, str], ...] = ()
    buttons: tuple[Button, ...] = ()
    selects: tuple[Select, ...] = ()
    if rules:
        fields = (("Rules", rules),)
    if not interactive and ((rules and not agreed) or interests):
        where = f"press *Get started* in {start_here} or " if start_here else ""
        lines.append(
            f"To agree to the rules and pick your interests, {where}run `/onboarding start`."
        )
        rules, interests = None, ()
    if rules and not agreed:
        action = "preview_agree" if preview else "agree"
        buttons = (Button(action, "I agree to the rules", style="success"),)
    if interests:
        lines.append("Pick your interests below to find your people.")
        selects = (interests_select(interests, "preview_pick" if preview else "pick"),)
    intro = intro_line(intro_channel)
    if intro:
        lines.append(intro)
    return Message(text="\n".join(lines), fields=fields, buttons=buttons, selects=selects)


def nudge_text(step: Step, intro_channel: str | None) -> str:
    """What a member is told when a step is still open."""
    if step is Step.RULES:
        return "A gentle reminder: please read the rules and press *I agree* to open the rest."
    if step is Step.INTERESTS:
        return "You haven't picked any interests yet; pick a few to find people who share them."
    return (
        f"We'd love to hear from you! Introduce yourself in {intro_channel or 'the intro channel'}."
    )


def _todo(step: Step, intro_channel: str | None) -> str:
    return {
        Step.RULES: "read the rules and press *I agree*",
        Step.INTERESTS: "pick your interests, to find people who share them",
    }.get(step, f"introduce yourself in {intro_channel or 'the intro channel'}")


def nudge_message(
    steps: Sequence[Step],
    *,
    intro_channel: str | None,
    interactive: bool,
    start_here: str | None,
) -> Message:
    """A short reminder of the steps still open (several due at once make one message): what
    to do and where, never the whole welcome again.

    ``interactive``: a *Get started* button opens the member's onboarding right here; else the
    message says where to press it, or which command to run."""
    if len(steps) == 1:
        lines = [nudge_text(steps[0], intro_channel)]
    else:
        lines = [f"A gentle reminder: {plural(len(steps), 'step')} to go, whenever suits you:"]
        lines += [f"• {_todo(step, intro_channel)}" for step in steps]
    buttons: tuple[Button, ...] = ()
    if Step.RULES in steps or Step.INTERESTS in steps:
        if interactive:
            buttons = (Button("start", "Get started", style="primary"),)
        else:
            where = f"press *Get started* in {start_here} or " if start_here else ""
            lines.append(f"To do it, {where}run `/onboarding start`.")
    return Message(text="\n".join(lines), buttons=buttons)


def when(at: datetime | None, tz: ZoneInfo) -> str:
    """A date and time in the community's zone, written as the reports write them
    (``2026-01-05 09:00 UTC``), or "not yet"."""
    return "not yet" if at is None else f"{at.astimezone(tz):%Y-%m-%d %H:%M} {tz.key}"


def status_fields(
    row: OnboardingMember,
    picked: Sequence[OnboardingInterest],
    buddy: str | None,
    tz: ZoneInfo,
) -> tuple[tuple[str, str], ...]:
    """One member's progress, step by step."""
    if row.buddy_id is None:
        talked = "no buddy"
    elif row.buddy_talked_at is not None:
        talked = f"{buddy}, talked {when(row.buddy_talked_at, tz)}"
    elif row.buddy_missed:
        talked = f"{buddy}, didn't talk in the first week"
    else:
        talked = f"{buddy}, not talked yet"
    nudged = ", ".join(sorted(row.nudged)) or "none"
    return (
        ("joined", when(row.joined_at, tz) + (" (came back)" if row.rejoins else "")),
        ("rules", f"agreed {when(row.rules_at, tz)}" if row.rules_at else "not yet"),
        ("interests", ", ".join(interest_label(i) for i in picked) or "not yet"),
        ("intro", f"posted {when(row.intro_at, tz)}" if row.intro_at else "not yet"),
        ("first reply", when(row.first_reply_at, tz)),
        ("day 7", "active" if row.day7_active_at else "not yet"),
        ("buddy", talked),
        ("nudges sent", nudged),
    )
