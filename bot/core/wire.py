"""Messages as JSON, so a delivery can wait in the outbox and survive a restart."""

from __future__ import annotations

import base64
from typing import Any

from bot.core.ids import CommunityRef, RoleRef, UserRef
from bot.core.message import Attachment, Button, Message, Option, Select


def encode(message: Message) -> dict[str, Any]:
    """A JSON-ready dict of a message (files base64, pings as ids)."""
    post = {"post": [message.post_name, list(message.post_tags)]} if message.post_name else {}
    return post | {
        "text": message.text,
        "title": message.title,
        "link": message.link,
        "image": message.image,
        "fields": [list(f) for f in message.fields],
        "buttons": [
            {"action": b.action, "label": b.label, "value": b.value, "style": b.style, "url": b.url}
            for b in message.buttons
        ],
        "selects": [
            {
                "action": s.action,
                "placeholder": s.placeholder,
                "min_values": s.min_values,
                "max_values": s.max_values,
                "value": s.value,
                "options": [
                    {
                        "label": o.label,
                        "value": o.value,
                        "description": o.description,
                        "emoji": o.emoji,
                    }
                    for o in s.options
                ],
            }
            for s in message.selects
        ],
        "files": [
            {
                "filename": f.filename,
                "data": base64.b64encode(f.data).decode(),
                "description": f.description,
            }
            for f in message.files
        ],
        "ping_users": sorted(u.id for u in message.ping_users),
        "ping_roles": sorted(r.id for r in message.ping_roles),
        "ping_everyone": message.ping_everyone,
        "unfurl": message.unfurl,
    }


def decode(data: dict[str, Any], community: CommunityRef) -> Message:
    """The message :func:`encode` wrote, its pings in ``community``."""
    return Message(
        text=data.get("text", ""),
        title=data.get("title"),
        link=data.get("link"),
        image=data.get("image"),
        fields=tuple((str(a), str(b)) for a, b in data.get("fields", [])),
        buttons=tuple(Button(**b) for b in data.get("buttons", [])),
        selects=tuple(
            Select(**{**s, "options": tuple(Option(**o) for o in s.get("options", []))})
            for s in data.get("selects", [])
        ),
        files=tuple(
            Attachment(f["filename"], base64.b64decode(f["data"]), f.get("description", ""))
            for f in data.get("files", [])
        ),
        ping_users=frozenset(UserRef(community, u) for u in data.get("ping_users", [])),
        ping_roles=frozenset(RoleRef(community, r) for r in data.get("ping_roles", [])),
        ping_everyone=bool(data.get("ping_everyone")),
        unfurl=bool(data.get("unfurl")),
        post_name=data["post"][0] if data.get("post") else None,
        post_tags=tuple(str(t) for t in data["post"][1]) if data.get("post") else (),
    )
