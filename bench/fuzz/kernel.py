"""Fuzz targets for the kernel and the adapters: destination addresses (SSRF), markup escaping,
component ids, and every value typed into a command or a setting."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from functools import cache
from typing import Any

from bench.fuzz.common import COMMUNITY, fields, friendly, no_ping, pick

# -- Destination addresses (bot/core/guard.py, cogs/announcements/_fetch.py, webhooks) ----------

_PRIVATE = tuple(
    ipaddress.ip_network(n)
    for n in (
        # IANA special-purpose IPv4 blocks that are not globally reachable (RFC 6890 and on).
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
        "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
        # ... and IPv6: unspecified, loopback, IPv4-compatible and -translated, discard, Teredo,
        # benchmarking, documentation, unique-local, link-local, site-local, multicast.
        "::/96", "::ffff:0:0:0/96", "64:ff9b:1::/48", "100::/64", "2001::/32", "2001:2::/48",
        "2001:db8::/32", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
    )
)  # fmt: skip
"""Written here from the IANA registries, apart from the guard's own list, as the oracle."""


def _private(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether ``ip`` (or an IPv4 address it wraps) is one no fetch may reach."""
    if isinstance(ip, ipaddress.IPv6Address):
        packed = int(ip)
        if ip in ipaddress.ip_network("::ffff:0:0/96") or ip in ipaddress.ip_network(
            "64:ff9b::/96"
        ):
            return _private(ipaddress.IPv4Address(packed & 0xFFFFFFFF))
        if ip in ipaddress.ip_network("2002::/16"):  # 6to4: the IPv4 address after 2002:
            return _private(ipaddress.IPv4Address((packed >> 80) & 0xFFFFFFFF))
    return any(ip.version == net.version and ip in net for net in _PRIVATE)


def _spellings(host: str) -> set[str]:
    """The addresses ``host`` resolves to without a name server (decimal, octal, hex, short
    IPv4 forms, IPv6 with or without scope), as the connector's resolver would see them."""
    found: set[str] = set()
    for flags in (socket.AI_NUMERICHOST, socket.AI_NUMERICHOST | socket.AI_V4MAPPED):
        try:
            infos = socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM, flags=flags)
        except (OSError, UnicodeError, ValueError):
            continue
        found.update(str(info[4][0]) for info in infos)
    return found


def addresses(data: bytes) -> None:
    """No spelling of a private, loopback, link-local or reserved address gets a socket."""
    from yarl import URL

    from bot.core.guard import AddressPolicy, BlockedDestination
    from bot.core.webhooks import web_address
    from cogs.announcements._fetch import FetchError, check_url

    port_choice, rest = pick(data, 4)
    port = (443, 80, 8080, 6379)[port_choice]
    (host,) = fields(rest, 1)
    policy = AddressPolicy()
    hosts = {host, host.strip("[]")}
    for url in (f"http://{host}/", f"https://{host}:{port}/feed"):
        with contextlib.suppress(FetchError):
            hosts.add(check_url(url).raw_host or "")
        web_address(url)
        with contextlib.suppress(ValueError, TypeError):
            hosts.add(URL(url).host or "")
    for spelled in {s for h in hosts if h for s in (h, *_spellings(h))}:
        try:
            policy.check(spelled, port)
        except BlockedDestination as exc:
            assert exc.reason, "a refusal without a reason"
            continue
        try:
            ip = ipaddress.ip_address(spelled.split("%", 1)[0])
        except ValueError:
            raise AssertionError(f"{spelled!r} is no IP address, and was allowed") from None
        if _private(ip):
            raise AssertionError(f"{spelled!r} (from {host!r}) is {ip}, private, and was allowed")
        assert port in (443, 80, 8080), f"{spelled!r}: port {port} was allowed"


# -- Markup escaping (bot/core/markup.py, bot/adapters/slack/text.py) ---------------------------


def markup(data: bytes) -> None:
    """Text from outside, escaped, shows as typed on both platforms and forms no construct."""
    import re

    from bot.adapters.slack.text import escape, to_mrkdwn, to_plain, unescape
    from bot.core.markup import ESCAPED, MARKUP_CHARS, escape_markup, trim_escape, unescape_markup

    (text,) = fields(data, 1)
    shown = escape_markup(text)
    assert unescape_markup(shown) == text, "escaped text does not read back as typed"
    bare = ESCAPED.sub("", shown)
    left = MARKUP_CHARS & set(bare)
    assert not left, f"markup characters left unescaped: {sorted(left)} in {shown[:200]!r}"
    item = re.search(r"(?m)^[ \t]*(?:[-+]|\d{1,9}\.)(?=\s|$)", shown)
    assert item is None, f"a list item {item.group(0) if item else ''!r}: {shown[:200]!r}"
    slack = to_mrkdwn(shown)
    assert "<" not in slack, f"a Slack link or mention from escaped text: {slack[:200]!r}"
    for cut in {1, len(shown) // 2, len(shown) - 1}:
        trimmed = trim_escape(shown[: max(cut, 0)])
        run = len(trimmed) - len(trimmed.rstrip("\\"))
        assert run % 2 == 0, f"a dangling backslash: {trimmed[-20:]!r}"
    sent = escape(text)
    no_ping(sent, "escaped Slack text")
    plain = to_plain(text)  # Slack shows plain_text literally: only broadcast words could ping
    assert not re.search(r"@(everyone|here|channel)", plain, re.I), f"a broadcast: {plain!r}"
    if "\u200b" not in text:
        assert unescape(sent).replace("@\u200b", "@") == text, "Slack escaping does not undo"


# -- Component ids (bot/core/message.py, bot/adapters/discord/convert.py) -----------------------


def components(data: bytes) -> None:
    """Any id a press carries is Steward's (feature, action, value) or ignored; ids round-trip,
    and a Discord id scoped to its guild reads back to that guild."""
    from bot.adapters.discord.convert import scope_component_id, unscope_component_id
    from bot.core.message import component_id, parse_component_id

    feature, action, value, raw = fields(data, 4)
    parse_component_id(raw)
    guild, neutral = unscope_component_id(raw)
    assert guild is None or guild >= 0
    assert guild is not None or neutral == raw
    try:
        cid = component_id(feature, action, value)
    except ValueError:
        return
    assert parse_component_id(cid) == (feature, action, value), f"{cid!r} does not round-trip"
    server = 10**17 + int.from_bytes(data[:7].ljust(7, b"\0"), "big")
    try:
        scoped = scope_component_id(cid, server)
    except ValueError:
        return
    assert unscope_component_id(scoped) == (server, cid), f"{scoped!r} does not round-trip"


# -- Values typed into commands and settings (bot/core/parsing.py, bot/builtin/_fields.py, and
# the features' own small parsers) ---------------------------------------------------------------


@cache
def _settings() -> list[tuple[Any, str]]:
    from bot.builtin._fields import settable
    from bot.features import load

    return [(f.Settings, key) for f in load(["all"]) for key in settable(f.Settings)]


def _small_parsers() -> list[Any]:
    from datetime import UTC, datetime, timedelta

    from bot.core.parsing import PARSERS, parse_value
    from cogs.announcements._limits import parse_cap
    from cogs.announcements._websub import lease_granted, renew_at
    from cogs.introductions._rounds import parse_cadence
    from cogs.moderation._automod_admin import parse as automod_value
    from cogs.moderation._escalation import parse_steps
    from cogs.moderation._rota import parse_range
    from cogs.moderation._rules import RuleKind
    from cogs.onboarding._admin import parse_opens

    def lease(text: str) -> None:
        seconds = lease_granted(text)
        assert seconds >= 60
        renew_at(datetime(2026, 1, 1, tzinfo=UTC), seconds)

    def cap(text: str) -> None:
        found = parse_cap(text)
        assert found is None or (1 <= found[0] <= 1000 and 60 <= found[1] <= 30 * 86400)

    def steps(text: str) -> None:
        try:
            found = parse_steps(text)
        except ValueError as exc:
            friendly(str(exc), "an escalation ladder's refusal")
            return
        assert all(s.points >= 1 for s in found)
        assert all(s.duration is None or s.duration <= timedelta(days=28) for s in found)

    def cadence(text: str) -> None:
        found = parse_cadence(text)
        assert parse_cadence(found.describe()) == found, f"{found.describe()!r} does not read back"

    def rota(text: str) -> None:
        start, end = parse_range(text)
        assert 0 <= start < 24 * 60 and 0 <= end <= 24 * 60

    kinds = [lambda text, kind=kind: parse_value(kind, text, COMMUNITY) for kind in PARSERS]
    rules = [lambda text, kind=kind: automod_value(kind, text) for kind in RuleKind]
    return [
        *kinds, *rules, lease, cap, steps, cadence, rota,
        lambda text: parse_opens(text, COMMUNITY),
    ]  # fmt: skip


_PARSERS: list[Any] = []


def typed_values(data: bytes) -> None:
    """Any text for any setting, command value or feature's small parser: a value, or a refusal
    in Steward's words (a UserError) that pings nobody."""
    from bot.adapters.slack.text import to_mrkdwn
    from bot.builtin._fields import parse_setting, show_value
    from bot.core.errors import UserError

    if not _PARSERS:
        _PARSERS.extend(_small_parsers())
    settings = _settings()
    choice = int.from_bytes(data[:2].ljust(2, b"\0"), "big") % (len(settings) + len(_PARSERS))
    (text,) = fields(data[2:], 1)
    try:
        if choice < len(settings):
            cls, key = settings[choice]
            changed = parse_setting(cls, cls(), key, text, COMMUNITY)
            shown = show_value(getattr(changed, key))
            no_ping(to_mrkdwn(shown), f"setting {key}")
        else:
            _PARSERS[choice - len(settings)](text)
    except UserError as exc:
        friendly(exc.message, "a typed value's refusal")


# -- The engagement export (cogs/engagement/_admin.py) ------------------------------------------


def csv_export(data: bytes) -> None:
    """A channel's name or id in the export is one cell that reads back whole and that no
    spreadsheet takes for a formula."""
    import csv
    import io

    from cogs.engagement._admin import FORMULA_STARTS, channel_cell

    channel, name, other = fields(data, 3)
    names = {channel: name} if name else {}
    row = [channel_cell(channel, names), channel_cell(other, names), "3"]
    for cell in row:
        assert not cell.startswith(FORMULA_STARTS), f"a formula cell: {cell[:100]!r}"
    out = io.StringIO()
    csv.writer(out).writerow(row)
    assert next(csv.reader(io.StringIO(out.getvalue()))) == row, "the row does not read back"
