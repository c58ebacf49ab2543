"""Neutral messages and forms to Slack Block Kit."""

from __future__ import annotations

from typing import Any

from bot.adapters.slack.text import escape
from bot.core.markup import unescape_markup
from bot.core.message import Form, Message, Select, component_id

MAX_TEXT = 3000


def _plain(text: str, limit: int) -> dict[str, Any]:
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return {"type": "plain_text", "text": text or " ", "emoji": True}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _select(feature: str, select: Select) -> dict[str, Any]:
    options = [{"text": _plain(o.label, 75), "value": o.value[:150]} for o in select.options[:100]]
    element: dict[str, Any] = {
        "action_id": component_id(feature, select.action, select.value),
        "placeholder": _plain(select.placeholder, 150),
        "options": options,
    }
    if select.max_values > 1:
        element["type"] = "multi_static_select"
        element["max_selected_items"] = min(select.max_values, len(options))
    else:
        element["type"] = "static_select"
    return element


def web(url: str | None) -> str | None:
    """An http(s) address fit for a Slack link or image (None otherwise)."""
    if not url or len(url) > 2048 or not url.startswith(("https://", "http://")):
        return None
    return url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C").replace(" ", "%20")


def blocks(
    feature: str,
    message: Message,
    mrkdwn: str,
    fields: list[tuple[str, str]],
    pings: str = "",
) -> list[Any]:
    """Block Kit for a message whose text, fields and ``pings`` are already Slack-safe mrkdwn."""
    out: list[dict[str, Any]] = []
    if pings:
        out.append({"type": "section", "text": {"type": "mrkdwn", "text": pings}})
    link = web(message.link)
    if message.title and link:
        title = escape(_clip(unescape_markup(message.title), 250)).replace("*", "\u2217")
        out.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*<{link}|{title}>*"}})
    elif message.title:
        out.append({"type": "header", "text": _plain(unescape_markup(message.title), 150)})
    if mrkdwn:
        out.append({"type": "section", "text": {"type": "mrkdwn", "text": _clip(mrkdwn, MAX_TEXT)}})
    image = web(message.image)
    if image:
        out.append(
            {
                "type": "image",
                "image_url": image,
                "alt_text": _clip(message.title or "", 2000) or "image",
            }
        )
    for start in range(0, min(len(fields), 40), 10):
        chunk = fields[start : start + 10]
        out.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": _clip(f"*{name}*\n{value}", 2000)}
                    for name, value in chunk
                ],
            }
        )
    elements: list[dict[str, Any]] = []
    for button in message.buttons[:25]:
        element: dict[str, Any] = {"type": "button", "text": _plain(button.label, 75)}
        if button.url:
            element["url"] = button.url
            # Slack still sends the click; a distinct prefix keeps it away from the handlers.
            element["action_id"] = "steward-link:" + component_id(feature, button.action)[8:]
        else:
            element["action_id"] = component_id(feature, button.action, button.value)
            element["value"] = button.value or "-"
            if button.style in ("primary", "success"):
                element["style"] = "primary"
            elif button.style == "danger":
                element["style"] = "danger"
        elements.append(element)
    elements += [_select(feature, s) for s in message.selects]
    if elements:
        out.append({"type": "actions", "elements": elements[:25]})
    return out


def needs_blocks(message: Message) -> bool:
    """Plain text is enough unless there is a title, fields or components."""
    return bool(message.title or message.fields or message.buttons or message.selects)


def modal(feature: str, form: Form, private_metadata: str) -> dict[str, Any]:
    """A modal view for a form; its submission comes back as a view_submission."""
    return {
        "type": "modal",
        "callback_id": component_id(feature, form.action, form.value),
        "title": _plain(form.title, 24),
        "submit": _plain("Send", 24),
        "close": _plain("Cancel", 24),
        "private_metadata": private_metadata[:3000],
        "blocks": [
            {
                "type": "input",
                "block_id": field.key,
                "optional": not field.required,
                "label": _plain(field.label, 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": field.key,
                    "multiline": field.long,
                    "max_length": min(field.max_length, 3000),
                    **(
                        {"placeholder": _plain(field.placeholder, 150)} if field.placeholder else {}
                    ),
                    **({"initial_value": field.default} if field.default else {}),
                },
            }
            for field in form.inputs[:20]
        ],
    }
