"""Fuzz targets: every parser of untrusted input, as ``target(data: bytes) -> None``.

A target splits the fuzzer's bytes into the fields its parser takes (``fields``), feeds them in,
and asserts what must hold for any input: the parser raises nothing but its documented friendly
error, and no text Steward would send carries an active mention. Anything else propagates, which
the fuzzer (``python -m bench.fuzz``) reports as a crash, and the suite's short run as a failure.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from bench.fuzz.common import ACTIVE, COMMUNITY, fields, friendly, no_ping, sendable
from bench.fuzz.kernel import addresses, components, csv_export, markup, typed_values
from bench.fuzz.relay import opml, route_filter, webhook_body, websub
from bench.fuzz.slack import (
    DISCORD_FORMS,
    EVENTS,
    INTERACTIONS,
    discord_forms,
    slack_events,
    slack_interactions,
)
from bot.adapters.slack.text import escape, to_mrkdwn
from bot.core.commandline import match, parse_args, tokenize
from bot.core.commands import CommandSpec
from bot.core.errors import UserError
from bot.core.parsing import format_duration, parse_duration
from bot.core.templates import neutralize_pings, parse_template, render

__all__ = ["ACTIVE", "SEEDS", "TARGETS", "fields"]

# -- Slack signature headers (bot/adapters/slack/signed.py) -------------------------------------

SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@cache
def _signed() -> Any:
    from slack_bolt.async_app import AsyncApp

    from bot.adapters.slack.signed import SignedRequests

    app = AsyncApp(token="xoxb-fuzz", signing_secret=SLACK_SECRET)
    return SignedRequests(app, SLACK_SECRET)


def slack_signature(data: bytes) -> None:
    """Forged headers are refused; a correct signature over a fresh timestamp is accepted."""
    timestamp, signature, body = fields(data, 3)
    raw = body.encode("utf-8")
    accepted = _signed().verified(raw, timestamp, signature)
    assert accepted is None or _valid(raw, timestamp, signature), "a forged request was accepted"
    fresh = str(int(time.time()))
    good = (
        "v0="
        + hmac.new(SLACK_SECRET.encode(), f"v0:{fresh}:".encode() + raw, hashlib.sha256).hexdigest()
    )
    assert _signed().verified(raw, fresh, good) == body, "a correctly signed request was refused"


def _valid(raw: bytes, timestamp: str, signature: str) -> bool:
    base = f"v0:{timestamp}:".encode() + raw
    expected = "v0=" + hmac.new(SLACK_SECRET.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


# -- Slash command text (bot/core/commandline.py, as the Slack adapter reads it) ----------------


@cache
def _specs() -> dict[str, list[CommandSpec]]:
    from bot.core.registry import Registry
    from bot.features import load

    registry = Registry(load(["all"]))
    by_feature: dict[str, list[CommandSpec]] = {}
    for spec in registry.commands():
        by_feature.setdefault(spec.feature, []).append(spec)
    return by_feature


def slash_command(data: bytes) -> None:
    """Any line after any feature's slash command: arguments or a UserError, pinging nobody."""
    from bot.adapters.slack.commands import parse_args as slack_args

    specs = _specs()
    names = sorted(specs)
    feature = names[data[0] % len(names)] if data else names[0]
    (text,) = fields(data[1:], 1)
    text = text.strip()
    tokens = tokenize(text)
    found = match(specs[feature], tokens) if tokens else None
    if found is None:
        return
    spec, used = found
    for parse in (slack_args, parse_args):
        try:
            parse(spec, text, tokens[used:], COMMUNITY)
        except UserError as exc:
            no_ping(to_mrkdwn(exc.message), f"the error for /{feature} {spec.name}")


# -- Manager templates and mention neutralising (bot/core/templates.py) -------------------------


def template(data: bytes) -> None:
    """A manager's template and member-supplied values: saved or refused, rendered pinging nobody
    but the bot's own mention. With transforms (``{title|truncate:N}``, the relay's templates)
    when the input starts with a byte of an odd value."""
    transforms = bool(data[:1]) and data[0] % 2 == 1
    source, name, other = fields(data[1:] if transforms else data, 3)
    allowed = frozenset({"member", "name", "server", "channel"})
    try:
        parsed = parse_template(source, allowed, transforms=transforms)
    except UserError as exc:
        friendly(exc.message, "a template refusal")
        return
    again = parse_template(parsed.source, allowed, transforms=transforms)
    assert again == parsed, "source does not round-trip"
    mention = "<@U0MEMBER>"
    values = {"name": name, "server": other, "channel": name + other}
    out = render(parsed, values, mentions={"member": mention}, limit=500)
    assert len(out) <= 500
    no_ping(out.replace(mention, "[the bot's mention]"), "a rendered template")
    whole = render(parsed, values, mentions={"member": mention}, limit=10**9)
    if len(whole) <= 500:
        assert out == whole, "a short text was cut"
        assert "member" not in parsed.fields or mention in out, "the bot's own mention was lost"


def mentions(data: bytes) -> None:
    """Neutralised text pings nobody, in Discord's form and after Slack's mrkdwn rendering."""
    (text,) = fields(data, 1)
    neutral = neutralize_pings(text)
    no_ping(neutral, "neutralised text")
    no_ping(to_mrkdwn(text), "Slack mrkdwn")
    no_ping(to_mrkdwn(neutral), "Slack mrkdwn of neutralised text")
    no_ping(escape(text), "escaped Slack text")


# -- Durations and periods (bot/core/parsing.py, cogs/engagement/_periods.py) ------------------


def durations(data: bytes) -> None:
    """A duration is parsed and prints back to itself, or refused with a UserError."""
    from cogs.engagement._periods import PeriodError, parse_period

    text, period = fields(data, 2)
    try:
        value = parse_duration(text)
    except UserError as exc:
        no_ping(to_mrkdwn(exc.message), "a duration refusal")
    else:
        assert value.total_seconds() > 0
        assert parse_duration(format_duration(value)) == value, "duration does not round-trip"
    today = 20_000  # 2024-10-04, days since 1970-01-01
    try:
        found = parse_period(period, today)
    except PeriodError as exc:
        no_ping(to_mrkdwn(str(exc)), "a period refusal")
    else:
        assert 1 <= found.days <= 3660


# -- Webhook signatures (cogs/announcements/_signatures.py) ------------------------------------


def webhook_signature(data: bytes) -> None:
    """Any headers: a refusal or, only with a correct signature, an admission; never a crash."""
    from cogs.announcements._signatures import Scheme, SeenDeliveries, admit

    scheme = list(Scheme)[data[0] % 3] if data else Scheme.GITHUB
    sig, ident, stamp, body = fields(data[1:], 4)
    secret = b"whsec_" + base64.b64encode(b"k" * 24)
    headers = {
        "X-Hub-Signature-256": sig,
        "X-Hub-Signature": sig,
        "Webhook-Signature": sig,
        "Webhook-Id": ident,
        "X-GitHub-Delivery": ident,
        "Webhook-Timestamp": stamp,
    }
    seen = SeenDeliveries()
    now = 1_700_000_000.0
    got = admit(scheme, body.encode(), headers, [secret], now, seen)
    assert got.status in (200, 202, 401, 413)
    if got.process:
        raise AssertionError(f"a forged {scheme} delivery was admitted: {headers!r}")


# -- The feed normaliser (cogs/announcements/_parse.py and the post it becomes) ----------------


def feed(data: bytes) -> None:
    """Any bytes: a Feed or NotAFeed; every item's post (each style) and thread ping nobody."""
    from zoneinfo import ZoneInfo

    from cogs.announcements._parse import NotAFeed, parse_feed
    from cogs.announcements._render import Look, post, thread_name
    from cogs.announcements._texts import format_name

    try:
        parsed = parse_feed(data, "https://example.org/feed")
    except NotAFeed:
        return
    name = format_name(parsed)
    no_ping(name, "a feed's name")
    sendable((parsed.title, parsed.link, parsed.hub), "a feed")
    utc = ZoneInfo("UTC")
    for item in parsed.items[:50]:
        texts = (item.title, item.summary, item.author, item.link, item.guid, item.image)
        sendable((*texts, *item.tags, *(e.url for e in item.enclosures)), "a feed's item")
        no_ping(thread_name(item), "a feed item's discussion thread")
        for style in ("text", "embed"):
            message = post(item, name, utc, Look(style=style))
            for text in (message.text, message.title or ""):
                no_ping(text, "a feed item's post")
                no_ping(to_mrkdwn(text), "a feed item's post on Slack")


# -- Automod rule patterns (cogs/moderation) ----------------------------------------------------


@dataclass
class _Clock:
    at: float = 0.0


def automod(data: bytes) -> None:
    """A manager's pattern is saved or refused (RuleRefused); a saved one screens any message."""
    from cogs.moderation._automod import Posted, Screen
    from cogs.moderation._rules import Rule, RuleKind, RuleRefused, check_pattern, check_rule

    pattern, word, text = fields(data, 3)
    rules = []
    try:
        check_pattern(pattern)
        rules.append(Rule(1, RuleKind.REGEX, pattern=pattern))
    except RuleRefused as exc:
        no_ping(to_mrkdwn(str(exc)), "a pattern refusal")
    try:
        rule = Rule(2, RuleKind.WORD, pattern=word)
        check_rule(rule)
        rules.append(rule)
    except RuleRefused:
        pass
    domains = frozenset(d for d in word.lower().split() if d)
    try:
        rule = Rule(3, RuleKind.LINK_DENY, domains=domains)
        check_rule(rule)
        rules.append(rule)
    except RuleRefused:
        pass
    rules.append(Rule(4, RuleKind.INVITE))
    rules.append(Rule(5, RuleKind.CAPS, limit=70))
    verdict = Screen(rules).screen(Posted(text=text, author="U1", channel="C1", at=0.0))
    assert all(r in rules for r in verdict.fired)


# -- Operator's variables that Steward reads itself (bot/config.py) ----------------------------


def config_values(data: bytes) -> None:
    """Any text in STEWARD_FEEDS_MIN_INTERVAL or STEWARD_DISCORD_SHARD_IDS: a value, or a
    refusal naming what is wanted, in Steward's words."""
    from pydantic import ValidationError

    from bot.config import Config

    (text,) = fields(data[1:], 1)
    name = ("feeds_min_interval", "discord_shard_ids")[data[0] % 2 if data else 0]
    try:
        Config(**{name: text.replace("\0", "")})
    except ValidationError as exc:
        for error in exc.errors():
            friendly(str(error["msg"]), f"STEWARD_{name.upper()}'s refusal")


TARGETS: dict[str, Callable[[bytes], None]] = {
    "slack_signature": slack_signature,
    "slash_command": slash_command,
    "template": template,
    "mentions": mentions,
    "durations": durations,
    "webhook_signature": webhook_signature,
    "feed": feed,
    "automod": automod,
    "addresses": addresses,
    "markup": markup,
    "components": components,
    "typed_values": typed_values,
    "csv_export": csv_export,
    "route_filter": route_filter,
    "opml": opml,
    "webhook_body": webhook_body,
    "websub": websub,
    "slack_interactions": slack_interactions,
    "slack_events": slack_events,
    "discord_forms": discord_forms,
    "config_values": config_values,
}
"""Every target by name, in the order the runner runs them."""

SEEDS: dict[str, list[bytes]] = {
    "slack_signature": [b"1700000000\0v0=" + b"a" * 64 + b"\0token=x&text=hi"],
    "slash_command": [b"\x00warn <@U123|alice> spamming", b'\x01settings set name="a b" 2h'],
    "template": [
        b"Welcome {member} to {server}! {{literal}}\0<!here>\0@everyone",
        b"\x01{name|upper|truncate:12} on {channel|lower}\0<@U1> **x**\0#general",
    ],
    "mentions": [b"<@U1> <!here> @everyone <@&123> <!subteam^S1|@mods> **bold** [a](https://x)"],
    "durations": [b"2h30m\x007d", b"1w\x002026-01-01..2026-01-31", b"90s\x003 months"],
    "webhook_signature": [b"\x00sha256=" + b"0" * 64 + b"\0id-1\x001700000000\0{}"],
    "feed": [
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>@everyone</title><item>'
        b"<title>&lt;!here&gt; news</title><link>https://example.org/a</link></item>"
        b"</channel></rss>",
        b'{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[{"id":"1",'
        b'"title":"<@U1>","url":"https://example.org/b"}]}',
    ],
    "automod": [b"fr[e3]+ money\0spam\0FREE MONEY at discord.gg/abc https://bad.example"],
    "addresses": [
        b"\x00127.0.0.1",
        b"\x010x7f.1",
        b"\x002130706433",
        b"\x00[::ffff:10.0.0.1]",
        b"\x00[fe80::1%25eth0]",
        b"\x00017700000001",
        b"\x00[64:ff9b::a9fe:a9fe]",
        b"\x008.8.8.8",
    ],
    "markup": [b"# [click](http://evil) *b* _i_ ~s~ `c` ||sp|| <@1> <t:1:R> > q\n- item\n1. one"],
    "components": [b"intro\0thanks\x0042\0steward@2n9c:intro:thanks:42", b"a\0b\0\0steward:x"],
    "typed_values": [b"\x00\x002h", b"\x00\x05<#C123>", b"\x01\x00every 2 weeks on tue"],
    "csv_export": [b'C123\0general\0=HYPERLINK("http://x")', b"=1+1\0\0-2"],
    "route_filter": [
        b"title contains 'release' and not (categories equals \"internal\" or link matches '^x')"
        b"\0Release 2\0internal",
        b"News; Release: title matches 'v[0-9]+'\0v2\0news",
    ],
    "opml": [
        b'\x00<opml version="2.0"><body><outline xmlUrl="https://e.org/a"/></body></opml>',
        b"\x01Feeds\0A & B <c>\0https://e.org/a\0\x01\0https://e.org/b?x=1&y=2",
    ],
    "webhook_body": [
        b'\x00release\0\0{"action":"published","release":{"id":1,"name":"v1 @everyone",'
        b'"html_url":"https://github.com/o/r/releases/v1"},"repository":{"full_name":"o/r"}}',
        b'\x03\0title=data.name, link=data.url\0{"data":{"name":"<!here>","url":"https://e.org"}}',
    ],
    "websub": [
        b'\x00<feed><link rel="hub" href="https://hub.example/"/><link rel="self" href="/f"/>',
        b"\x01https://hub.example/",
    ],
    "slack_interactions": [bytes([i]) for i in range(len(INTERACTIONS))],
    "slack_events": [bytes([i]) for i in range(len(EVENTS))],
    "discord_forms": [bytes([i]) for i in range(len(DISCORD_FORMS))],
    "config_values": [b"\x00300", b"\x005m", b"\x010,1", "\x00²".encode()],
}
"""Inputs each target starts from (the fuzzer mutates them; the suite's run includes them)."""
