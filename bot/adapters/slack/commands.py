"""One slash command per feature: ``/moderation warn @alice spamming``, read by the core's
command-line parser, with Slack's escaping undone in text arguments."""

from __future__ import annotations

from typing import Any

from bot.adapters.slack.text import unescape
from bot.core.commandline import Token, match, member_refs, tokenize, usage
from bot.core.commandline import parse_args as parse_line
from bot.core.commands import CommandSpec
from bot.core.ids import CommunityRef


def parse_args(
    spec: CommandSpec, text: str, tokens: list[Token], community: CommunityRef
) -> dict[str, Any]:
    """Arguments by name, as the core reads them, text arguments unescaped as Slack sends them."""
    return parse_line(spec, text, tokens, community, unescape=unescape)


__all__ = ["Token", "match", "member_refs", "parse_args", "tokenize", "usage"]
