"""conversations.invite, batched per channel and paced to its tier.

conversations.invite is a Tier 3 method (about 50 calls a minute per workspace) and takes up
to 1,000 users a call. A join storm brings every newcomer into onboarding's channels: one call
each would be 1,000 calls for 500 newcomers, twenty minutes of the tier. Here a channel's
invitations that arrive while its last call is out, or while the tier's window is full, go
together in the next call; a lone invitation goes at once, as before.

Slack refuses the whole call when one of its users can't be invited (``already_in_channel``,
``user_not_found``...; ``force`` is not used, so nobody is left out silently). A batch refused
for a reason that may be one user's is asked again one user at a time, so each caller gets
its own answer; a refusal that is the channel's or the app's (not in the channel, a scope, a
passing failure) is every caller's answer at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from slack_sdk.errors import SlackApiError

from bot.adapters.slack._answers import slack_error
from bot.core.pacing import Window

MOST_USERS = 1000
"""Users one conversations.invite names at most."""
EVERYONE_S = frozenset(
    {
        "not_in_channel",
        "channel_not_found",
        "is_archived",
        "method_not_supported_for_channel_type",
        "missing_scope",
        "not_allowed_token_type",
        "restricted_action",
        "not_authed",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "ratelimited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
    }
)
"""Refusals that are about the call (the channel, the app, Slack), not one of its users."""

Invite = Callable[[str, list[str]], Awaitable[object]]
"""One conversations.invite call: the channel and the users."""


class Invites:
    """The invitations waiting for each channel, and the one call out for each."""

    def __init__(self, invite: Invite, window: Window) -> None:
        self._invite = invite
        self.window = window
        """The tier's window, shared by every channel (the tier counts calls per workspace)."""
        self._waiting: dict[str, list[tuple[str, asyncio.Future[None]]]] = {}
        self._sending: dict[str, asyncio.Task[None]] = {}

    async def invite(self, channel: str, user: str) -> None:
        """Bring ``user`` into ``channel``; raises what Slack refused for them."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(channel, []).append((user, done))
        if channel not in self._sending:
            task = asyncio.create_task(self._send(channel), name="steward-slack-invites")
            self._sending[channel] = task
        await done

    async def _send(self, channel: str) -> None:
        batch: list[tuple[str, asyncio.Future[None]]] = []
        try:
            while self._waiting.get(channel):
                await self.window.acquire()  # others arriving meanwhile join this call
                try:
                    batch = self._waiting.pop(channel)
                    if len(batch) > MOST_USERS:
                        self._waiting[channel] = batch[MOST_USERS:]
                        batch = batch[:MOST_USERS]
                    users = list(dict.fromkeys(user for user, _ in batch))
                    outcome = await self._call(channel, users)
                finally:
                    self.window.release()
                if outcome is None or len(users) == 1 or for_everyone(outcome):
                    for _, done in batch:
                        _settle(done, outcome)
                    continue
                # Refused for a reason that may be one user's: each is asked on their own.
                for user in users:
                    async with self.window.slot():
                        alone = await self._call(channel, [user])
                    for who, done in batch:
                        if who == user:
                            _settle(done, alone)
        finally:
            del self._sending[channel]
            # Only when this task was cancelled (Steward stopping): nobody waits for ever.
            for _, done in batch + self._waiting.pop(channel, []):
                if not done.done():
                    done.cancel()

    async def _call(self, channel: str, users: list[str]) -> Exception | None:
        """One call: None when it went through, else what Slack (or the network) answered."""
        try:
            await self._invite(channel, users)
        except Exception as exc:
            return exc
        return None


def _settle(done: asyncio.Future[None], outcome: BaseException | None) -> None:
    if done.done():
        return
    if outcome is None:
        done.set_result(None)
    else:
        done.set_exception(outcome)


def for_everyone(exc: BaseException) -> bool:
    """Whether a refused batch's answer is every invitee's (else each is asked alone)."""
    if not isinstance(exc, SlackApiError):
        return True  # the network, not a user
    return exc.response.status_code >= 500 or slack_error(exc) in EVERYONE_S
