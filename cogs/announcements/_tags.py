"""A forum route's tags: each post in a Discord forum carries the forum's tags whose filters the
item passes (``Release: title contains 'release'; Security: categories equals 'security'``; a
tag without a filter goes on every post). Pure, but for the check against the forum itself."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.core import ChannelRef, Forum, Platform, UserError
from bot.core.templates import neutralize_pings
from cogs.announcements._filters import Filter, FilterError, parse, passes, show

MAX_RULES = 20
MAX_TAGS_PER_POST = 5
"""Discord's limit: the first five tags that apply go on a post."""
MAX_NAME = 20
"""Discord's limit on a forum tag's name."""
_CLOSING = {"'": "'", '"': '"', "‘": "’", "“": "”"}
EXAMPLE = "`News; Release: title contains 'release'`"


@dataclass(frozen=True, slots=True)
class TagRule:
    """One of the forum's tags, by name, and the filter that puts it on a post (None: always)."""

    name: str
    filter: Filter | None = None

    @property
    def text(self) -> str:
        """The rule as a manager types it."""
        return f"{self.name}: {show(self.filter)}" if self.filter else self.name


def _split(text: str) -> list[str]:
    """``text`` cut at each ``;`` that is not inside quotes."""
    parts: list[str] = []
    current: list[str] = []
    closing = ""
    for char in text:
        if closing:
            closing = "" if char == closing else closing
        elif char in _CLOSING:
            closing = _CLOSING[char]
        elif char == ";":
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def parse_tags(text: str) -> tuple[TagRule, ...]:
    """A manager's tags (``UserError`` explains a mistake); ``none`` or nothing: no tags."""
    if text.strip().lower() in ("", "none"):
        return ()
    rules: list[TagRule] = []
    for part in _split(text):
        name, colon, condition = part.partition(":")
        name = name.strip()
        if not name or len(name) > MAX_NAME:
            raise UserError(
                f"Name each tag (at most {MAX_NAME} characters) before its filter, like {EXAMPLE}."
            )
        try:
            found = parse(condition) if colon else None
        except FilterError as exc:
            raise UserError(f"The filter of tag “{name}” doesn't read: {exc.message}") from exc
        if any(r.name.casefold() == name.casefold() for r in rules):
            raise UserError(f"Tag “{name}” is named twice: give it one filter (use `or`).")
        rules.append(TagRule(name, found))
    if len(rules) > MAX_RULES:
        raise UserError(f"A route chooses among at most {MAX_RULES} tags.")
    return tuple(rules)


def stored(rules: Sequence[TagRule]) -> str:
    """The tags as stored (the same text ``parse_tags`` reads back)."""
    return "; ".join(r.text for r in rules)


def read_stored(text: str) -> tuple[TagRule, ...]:
    """Stored tags (checked when saved; a rule that no longer reads is left out)."""
    try:
        return parse_tags(text)
    except UserError:
        return tuple(r for part in _split(text) for r in _one(part))


def _one(part: str) -> tuple[TagRule, ...]:
    try:
        return parse_tags(part)
    except UserError:
        return ()


def tags_for(
    rules: Sequence[TagRule], values: Mapping[str, str | tuple[str, ...]]
) -> tuple[str, ...]:
    """The tags an item gets: those whose filter it passes, in the route's order, at most 5."""
    return tuple(r.name for r in rules if passes(r.filter, values))[:MAX_TAGS_PER_POST]


def check_destination(
    platform: Platform, channel: ChannelRef, forum: Forum | None, rules: Sequence[TagRule]
) -> None:
    """Refuse tags where they cannot go, names the forum lacks, a forum that requires a tag
    without one for every post, and a media channel (its posts need a file)."""
    where = f"<#{channel.id}>"
    if forum is not None and forum.media:
        raise UserError(
            f"{where} is a media channel, where each post needs an attached file, and I post "
            "links and images: pick a forum or a text channel."
        )
    if rules and platform == "slack":
        raise UserError(
            "Slack has no forum channels, so posts there carry no tags: leave `tags` off."
        )
    if rules and forum is None:
        raise UserError(f"Tags are for forum channels and {where} is not one: leave `tags` off.")
    if forum is None:
        return
    known = {t.casefold() for t in forum.tags}
    for rule in rules:
        if rule.name.casefold() not in known:
            offered = ", ".join(f"“{t}”" for t in forum.tags) or "none yet"
            raise UserError(
                neutralize_pings(f"{where} has no tag “{rule.name}”. Its tags: {offered}.")
            )
    if forum.requires_tag and not any(r.filter is None for r in rules):
        raise UserError(
            f"{where} requires a tag on every post: give the route one without a filter (it "
            f"goes on every post), like `tags` {EXAMPLE}."
        )
