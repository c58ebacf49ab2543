"""App Home: what Steward knows about the member looking at it."""

from __future__ import annotations

from typing import Any

from bot.adapters.slack.text import escape
from bot.core.members import Member
from bot.core.registry import Registry


def home_view(member: Member, registry: Registry) -> dict[str, Any]:
    """The home tab: who they are to Steward and what they can do."""
    lines = []
    for spec in registry.commands():
        if member.level >= spec.requires:
            lines.append(f"• `{escape(spec.typed_usage)}`: {escape(spec.description)}")
    commands = "\n".join(lines[:40]) or "Nothing yet."
    return {
        "type": "home",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Steward"}},
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"Hi {escape(member.display_name[:80])}! To Steward you are "
                    f"{member.level.label} here.",
                },
            },
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"*What you can run*\n{commands}"},
            },
        ],
    }
