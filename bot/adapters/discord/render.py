"""Neutral messages and forms to discord.py content, embeds, views, files and modals."""

from __future__ import annotations

import io
from typing import Any

import discord

from bot.adapters.discord.convert import scope_component_id
from bot.core.message import Button, Form, Message, Select, component_id

MAX_CONTENT = 2000
EMBED_COLOUR = discord.Colour(0x4F7CAC)
_STYLES = {
    "primary": discord.ButtonStyle.primary,
    "secondary": discord.ButtonStyle.secondary,
    "danger": discord.ButtonStyle.danger,
    "success": discord.ButtonStyle.success,
}


def allowed_mentions(message: Message) -> discord.AllowedMentions:
    """Nobody is pinged unless the message names them (a manager allowed it)."""
    return discord.AllowedMentions(
        everyone=message.ping_everyone,
        users=[discord.Object(int(u.id)) for u in message.ping_users if u.id.isdigit()],
        roles=[discord.Object(int(r.id)) for r in message.ping_roles if r.id.isdigit()],
        replied_user=False,
    )


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_web(url: str | None) -> bool:
    return bool(url) and len(url or "") <= 2048 and (url or "").startswith(("https://", "http://"))


def _custom_id(feature: str, action: str, value: str, scope: int | None) -> str:
    cid = component_id(feature, action, value)
    return cid if scope is None else scope_component_id(cid, scope)


def _view(feature: str, message: Message, scope: int | None) -> discord.ui.View | None:
    if not message.buttons and not message.selects:
        return None
    view = discord.ui.View(timeout=None)
    for button in message.buttons:
        view.add_item(_button(feature, button, scope))
    for select in message.selects:
        view.add_item(_select(feature, select, scope))
    # Stopped views are sent but not kept in discord.py's view store: presses come back
    # through the bridge to the dispatcher, which outlives any one process.
    view.stop()
    return view


def _button(feature: str, button: Button, scope: int | None) -> discord.ui.Button[Any]:
    if button.url:
        return discord.ui.Button(label=button.label[:80], url=button.url)
    return discord.ui.Button(
        label=button.label[:80],
        style=_STYLES[button.style],
        custom_id=_custom_id(feature, button.action, button.value, scope),
    )


def _select(feature: str, select: Select, scope: int | None) -> discord.ui.Select[Any]:
    return discord.ui.Select(
        custom_id=_custom_id(feature, select.action, select.value, scope),
        placeholder=select.placeholder[:150],
        min_values=select.min_values,
        max_values=min(select.max_values, len(select.options)),
        options=[
            discord.SelectOption(
                label=o.label[:100],
                value=o.value[:100],
                description=(o.description or None) and o.description[:100],
                emoji=o.emoji or None,
            )
            for o in select.options[:25]
        ],
    )


def render(feature: str, message: Message, *, scope: int | None = None) -> dict[str, Any]:
    """Keyword arguments for ``send``/``followup.send``/``edit`` (without ``ephemeral``).

    ``scope`` is the guild of a message shown outside it (a DM): its component ids name it."""
    kwargs: dict[str, Any] = {"allowed_mentions": allowed_mentions(message)}
    if message.title or message.fields:
        embed = discord.Embed(
            title=_clip(message.title or "", 256) or None,
            url=message.link if message.title and _is_web(message.link) else None,
            description=_clip(message.text, 4096) or None,
            colour=EMBED_COLOUR,
        )
        for name, value in message.fields[:25]:
            embed.add_field(name=_clip(name, 256), value=_clip(value, 1024) or "-", inline=False)
        if _is_web(message.image):
            embed.set_image(url=message.image)
        kwargs["embed"] = embed
        # An embed never pings: the members and roles the message may ping are named above it.
        pinged = [f"<@&{r.id}>" for r in sorted(message.ping_roles, key=lambda r: r.id)]
        pinged += [f"<@{u.id}>" for u in sorted(message.ping_users, key=lambda u: u.id)]
        if pinged:
            kwargs["content"] = " ".join(pinged)
    else:
        kwargs["content"] = _clip(message.text, MAX_CONTENT) or "\u200b"
    view = _view(feature, message, scope)
    if view is not None:
        kwargs["view"] = view
    if message.files:
        kwargs["files"] = [
            discord.File(io.BytesIO(f.data), filename=f.filename, description=f.description or None)
            for f in message.files
        ]
    if not message.unfurl:
        kwargs["suppress_embeds"] = "embed" not in kwargs
    return kwargs


def render_modal(feature: str, form: Form, *, scope: int | None = None) -> discord.ui.Modal:
    """A modal for a form; its submission comes back through the bridge (scoped as ``render``)."""
    modal = discord.ui.Modal(
        title=_clip(form.title, 45),
        custom_id=_custom_id(feature, form.action, form.value, scope),
    )
    for field in form.inputs[:5]:
        modal.add_item(
            discord.ui.TextInput(
                label=_clip(field.label, 45),
                custom_id=field.key,
                style=discord.TextStyle.paragraph if field.long else discord.TextStyle.short,
                required=field.required,
                placeholder=field.placeholder[:100] or None,
                default=field.default or None,
                max_length=min(field.max_length, 4000),
            )
        )
    modal.stop()
    return modal
