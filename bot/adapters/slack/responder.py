"""Answering a slash command, button or form on Slack: ack first, then respond."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.adapters.slack import render
from bot.adapters.slack.port import SlackPort
from bot.core.errors import UserError
from bot.core.ids import ChannelRef, UserRef
from bot.core.message import Form, Message

log = logging.getLogger("steward.slack")
Respond = Callable[..., Awaitable[bool]]


class ResponseUrl:
    """Posts to an interaction's ``response_url`` over one shared keep-alive session.

    Bolt's ``respond()`` builds a client and a connection (a TLS handshake, in production) per
    call; this is the same slack_sdk webhook client on a pooled session, with retries.
    """

    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        self.client = AsyncWebhookClient(
            url,
            session=session,
            retry_handlers=[
                AsyncConnectionErrorRetryHandler(),
                AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            ],
        )

    async def __call__(self, **body: Any) -> bool:
        """Post ``body``; False when Slack refused it (the URL expired or was used up)."""
        response = await self.client.send_dict({k: v for k, v in body.items() if v is not None})
        if response.status_code != 200:
            log.warning("response_url answered %s %s", response.status_code, response.body[:80])
            return False
        return True


class SlackResponder:
    """The Responder for one interaction: response_url when there is one, else chat.*."""

    def __init__(
        self,
        port: SlackPort,
        *,
        channel: ChannelRef,
        user_id: str,
        respond: Respond | None,
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
        responded = self.respond is not None and await self.respond(
            response_type="ephemeral" if ephemeral else "in_channel",
            replace_original=False,
            unfurl_links=message.unfurl,
            unfurl_media=message.unfurl,
            **kwargs,
        )
        if responded:
            pass  # shown through the response_url
        elif ephemeral:
            try:
                await self.port.client.chat_postEphemeral(
                    channel=self.channel.id,
                    user=self.user_id,
                    thread_ts=self.channel.thread,
                    **kwargs,
                )
            except SlackApiError:
                # Not in that channel (or none, as from App Home): the answer goes to their DMs.
                if await self.port.dm(UserRef(self.channel.community, self.user_id), message):
                    return
                raise
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
