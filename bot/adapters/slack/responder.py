"""Answering a slash command, button or form on Slack: ack first, then respond."""

from __future__ import annotations

from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.adapters.slack import render
from bot.adapters.slack.port import SlackPort
from bot.core.errors import UserError
from bot.core.ids import ChannelRef
from bot.core.message import Form, Message


class SlackResponder:
    """The Responder for one interaction: response_url when there is one, else chat.*."""

    def __init__(
        self,
        port: SlackPort,
        *,
        channel: ChannelRef,
        user_id: str,
        respond: AsyncRespond | None,
        trigger_id: str | None,
    ) -> None:
        self.port = port
        self.channel = channel
        self.user_id = user_id
        self.respond = respond
        self.trigger_id = trigger_id

    async def send(self, message: Message, *, ephemeral: bool) -> None:
        """Show ``message`` to the invoker (only to them when ``ephemeral``)."""
        kwargs: dict[str, Any] = await self.port.render(message)
        if self.respond is not None:
            await self.respond(
                response_type="ephemeral" if ephemeral else "in_channel",
                replace_original=False,
                unfurl_links=message.unfurl,
                unfurl_media=message.unfurl,
                **kwargs,
            )
        elif ephemeral:
            await self.port.client.chat_postEphemeral(
                channel=self.channel.id, user=self.user_id, thread_ts=self.channel.thread, **kwargs
            )
        else:
            await self.port.send(self.channel, message)
            return
        if message.files:
            # Files can't be ephemeral on Slack: private ones go to the member's DMs.
            target = self.channel.id
            if ephemeral:
                opened = await self.port.client.conversations_open(users=self.user_id)
                target = str(opened["channel"]["id"])
            await self.port.upload(target, message, None)

    async def open_form(self, form: Form) -> None:
        """Open a modal; the channel rides along so the answer lands where the form was opened."""
        if self.trigger_id is None:
            raise UserError("I can't open a form from here.")
        metadata = self.channel.id + (f":{self.channel.thread}" if self.channel.thread else "")
        await self.port.client.views_open(
            trigger_id=self.trigger_id,
            view=render.modal(self.port.feature, form, private_metadata=metadata),
        )
