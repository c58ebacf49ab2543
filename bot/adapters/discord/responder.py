"""Answering an interaction: directly when quick, deferred when slow, so none ever times out."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import discord

from bot.adapters.discord.render import render, render_modal
from bot.core.errors import UserError
from bot.core.message import Form, Message

DEFER_AFTER = 1.5
"""Seconds before an unanswered interaction is deferred (Discord allows three)."""

_EDIT_KEYS = {"content", "embed", "view", "allowed_mentions"}


class InteractionResponder:
    """The Responder for one interaction: respond, defer, edit the original, follow up."""

    def __init__(
        self,
        interaction: discord.Interaction[Any],
        feature: str,
        ephemeral: bool,
        *,
        defer_after: float = DEFER_AFTER,
        scope: int | None = None,
    ) -> None:
        """``scope``: the guild of an interaction that happens outside it (a DM press)."""
        self.interaction = interaction
        self.feature = feature
        self.ephemeral = ephemeral
        self.scope = scope
        self._lock = asyncio.Lock()
        self._thinking: bool | None = None  # ephemerality of a pending "thinking…" original
        self._timer = asyncio.get_running_loop().call_later(defer_after, self._defer_soon)
        self._defer_task: asyncio.Task[None] | None = None

    def _defer_soon(self) -> None:
        self._defer_task = asyncio.create_task(self._defer())

    async def _defer(self) -> None:
        async with self._lock:
            if self.interaction.response.is_done():
                return
            with contextlib.suppress(discord.HTTPException):
                await self.interaction.response.defer(ephemeral=self.ephemeral, thinking=True)
                self._thinking = self.ephemeral

    async def send(self, message: Message, *, ephemeral: bool) -> None:
        """Show ``message`` to the invoker (only to them when ``ephemeral``)."""
        kwargs = render(self.feature, message, scope=self.scope)
        async with self._lock:
            response = self.interaction.response
            if not response.is_done():
                self._timer.cancel()
                await response.send_message(ephemeral=ephemeral, **kwargs)
                return
            if self._thinking is not None:
                pending, self._thinking = self._thinking, None
                if pending == ephemeral and "files" not in kwargs:
                    edit = {k: v for k, v in kwargs.items() if k in _EDIT_KEYS}
                    edit.setdefault("content", None)
                    await self.interaction.edit_original_response(**edit)
                    return
                with contextlib.suppress(discord.NotFound):
                    await self.interaction.delete_original_response()
            await self.interaction.followup.send(ephemeral=ephemeral, wait=True, **kwargs)

    async def open_form(self, form: Form) -> None:
        """Open a modal; only possible as the first answer to the interaction."""
        async with self._lock:
            if self.interaction.response.is_done():
                raise UserError("That took too long to open a form; please try again.")
            self._timer.cancel()
            await self.interaction.response.send_modal(
                render_modal(self.feature, form, scope=self.scope)
            )

    async def close(self) -> None:
        """Stop the deferral timer (the dispatcher has answered)."""
        self._timer.cancel()
        if self._defer_task is not None:
            await self._defer_task
