"""SlackPort: every Port call through the Web API; gaps declared as capabilities."""

from __future__ import annotations

import io
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import history, render
from bot.adapters.slack._answers import (
    NO_DM,
    MissingPermission,
    level_of,
    refused,
    slack_error,
    to_member,
)
from bot.adapters.slack.invites import Invites
from bot.adapters.slack.text import escape, mentioned_groups, mentioned_users, to_mrkdwn
from bot.core.errors import NotSupported, Unavailable, UserError
from bot.core.events import MessagePosted, ReactionAdded
from bot.core.expiring import Expiring
from bot.core.ids import ChannelRef, CommunityRef, MessageRef, Platform, RoleRef, UserRef
from bot.core.markup import unescape_markup
from bot.core.members import Member
from bot.core.message import Form, Message
from bot.core.pacing import Limits, Window, Windows
from bot.core.port import LOOKS_SETTLED_AFTER, Capability, Forum

MEMBER_TTL = 300.0
ROSTER_PAGE = 1000
"""People listed a page at a time when the workspace is listed whole (users.list's largest
page): 5,000 members are 5 calls of its Tier 2 ("20+ per minute"), not 25 at 200 a page."""
USERS_KEPT = 5000
"""The most users kept at once (newcomers keep coming: a cache of everyone grew without end)."""
LOOKBACK = 999
"""Messages read a page at a time when a delivery that may have gone out is looked for: Slack's
largest page, so a look takes few calls (Tier 3) and fits in the outbox's send timeout."""
LOOK_EARLIER = timedelta(minutes=1)
"""How long before the delivery was queued the look starts (Steward's clock and Slack's may
differ)."""
READS_KEPT = 200
"""Channels whose last look is kept for the next resend's (the oldest dropped past this)."""
DELIVERY_EVENT = "steward_delivery"
"""The metadata event type that carries a delivery's idempotency key."""

__all__ = [
    "DELIVERY_EVENT",
    "LOOKBACK",
    "MEMBER_TTL",
    "MissingPermission",
    "SlackPort",
    "level_of",
    "to_member",
]


@dataclass(slots=True)
class _Read:
    """What a look in a channel (or thread) found: the delivery keys of Steward's posts there
    and their ts, as read from ``started`` (monotonic) on, back to ``reaches`` (a ts; 0: the
    start of the channel), plus what this process posted there with a key since."""

    started: float
    reaches: float
    keys: dict[str, str]


class SlackPort:
    """The Port for one Slack workspace."""

    platform: Platform = "slack"
    capabilities = frozenset(
        {
            Capability.ROLES,
            Capability.THREADS,
            Capability.BUTTONS,
            Capability.SELECTS,
            Capability.EPHEMERAL,
            Capability.FORMS,
            Capability.FILES,
            Capability.CHANNEL_INVITE,
            Capability.DM_COMPONENTS,
        }
    )

    def __init__(
        self, client: AsyncWebClient, feature: str = "steward", limits: Limits | None = None
    ) -> None:
        self.client = client
        self.feature = feature
        # chat.postMessage: about one per second per channel (threads included). Slack answers
        # no headers to pace by, so Steward keeps the count itself and waits its turn.
        limits = limits or Limits()
        self.posts = Windows(*limits.slack_post)
        # conversations.invite: Tier 3. A channel's invitations go together, paced to it.
        self.invites = Invites(self._invite, Window(*limits.slack_tier3))
        # users.list: Tier 2, shared by the head count, channel members and the whole listing
        # each connection makes (``everyone``).
        self.listing = Window(*limits.slack_tier2)
        self._users: Expiring[str, dict[str, Any] | None] = Expiring(MEMBER_TTL, USERS_KEPT)
        # The last look per (channel, thread): resends after a restart share one read of a
        # channel instead of a Tier 3 call each (``LOOKS_SETTLED_AFTER`` says when they may).
        self._reads: dict[tuple[str, str | None], _Read] = {}
        # One shared box, so every per-feature view sees the same cache and invalidation.
        self._groups: list[tuple[float, dict[str, frozenset[str]], dict[str, str]]] = []
        self._count: list[tuple[float, int]] = []
        self._me: list[str] = []

    def for_feature(self, feature: str) -> SlackPort:
        """The same port (and user cache), rendering component ids for ``feature``."""
        view = SlackPort(self.client, feature)
        view.posts = self.posts
        view.invites = self.invites
        view.listing = self.listing
        view._users = self._users
        view._reads = self._reads
        view._groups = self._groups
        view._count = self._count
        view._me = self._me
        return view

    async def user(self, user_id: str) -> dict[str, Any] | None:
        """users.info, cached for a few minutes; None when there is no such user."""
        kept, cached = self._users.get(user_id)
        if kept:
            return cached
        try:
            response = await self.client.users_info(user=user_id)
            found: dict[str, Any] | None = dict(response["user"])
        except SlackApiError as exc:
            if slack_error(exc) != "user_not_found":
                raise
            found = None
        self._users.put(user_id, found)
        return found

    def forget(self, user_id: str) -> None:
        """Drop a cached user (they changed)."""
        self._users.pop(user_id)

    def remember(self, user: dict[str, Any]) -> None:
        """Cache a user as an event carried them whole (team_join, user_change: the same
        object users.info answers), so naming a newcomer in their welcome asks nothing more."""
        user_id = user.get("id")
        if isinstance(user_id, str) and user_id:
            self._users.put(user_id, dict(user))

    def count_joined(self, user: dict[str, Any]) -> None:
        """Someone joined: a cached head count grows by one person (a bot counts for none).

        It used to be dropped instead, so each newcomer's welcome listed the whole workspace
        again (users.list, 200 people a page): in a storm of joins a cost growing with the
        workspace, per join, on a Tier 2 method. The count is still listed afresh once it is
        ``MEMBER_TTL`` old.
        """
        if self._count and not (user.get("is_bot") or user.get("deleted")):
            at, total = self._count[0]
            self._count[0] = (at, total + 1)

    def forget_groups(self) -> None:
        """Drop the cached user-group membership (a group changed)."""
        self._groups.clear()

    async def groups_of(self, user_id: str) -> frozenset[str]:
        """The user groups (Slack's roles) a user is in: usergroups.list, cached for a while.

        Workspaces without user groups (free plans) or without the scope simply have none.
        """
        return (await self._usergroups())[0].get(user_id, frozenset())

    async def group_handles(self) -> dict[str, str]:
        """Each user group's handle (``mods`` for ``@mods``), from the same cached list."""
        return (await self._usergroups())[1]

    async def _usergroups(self) -> tuple[dict[str, frozenset[str]], dict[str, str]]:
        now = time.monotonic()
        if not self._groups or now - self._groups[0][0] >= MEMBER_TTL:
            members: dict[str, set[str]] = {}
            handles: dict[str, str] = {}
            try:
                response = await self.client.usergroups_list(include_users=True)
                for group in response.get("usergroups") or []:
                    handles[str(group["id"])] = str(group.get("handle") or group.get("name"))
                    for uid in group.get("users") or []:
                        members.setdefault(str(uid), set()).add(str(group["id"]))
            except SlackApiError:
                members, handles = {}, {}
            frozen = {uid: frozenset(gs) for uid, gs in members.items()}
            self._groups[:] = [(now, frozen, handles)]
        return self._groups[0][1], self._groups[0][2]

    async def member(self, user: UserRef) -> Member | None:
        """A member snapshot with their user groups, or None when Slack has no such user."""
        found = await self.user(user.id)
        if found is None:
            return None
        return to_member(found, user.community, await self.groups_of(user.id))

    async def myself(self, community: CommunityRef) -> Member | None:
        """Steward's own user in the workspace (auth.test, asked once)."""
        if not self._me:
            identity = await self.client.auth_test()
            self._me.append(str(identity["user_id"]))
        return await self.member(UserRef(community, self._me[0]))

    async def render(self, message: Message) -> dict[str, Any]:
        """``text`` and ``blocks`` arguments for chat.* and response_url calls."""
        names: dict[str, str] = {}
        wanted = mentioned_users(message.text) | {
            uid for _, value in message.fields for uid in mentioned_users(value)
        }
        # Every mentioned user is named (users.info is cached): a list of open questions names
        # many askers, and "@someone" tells a manager nothing.
        for user_id in sorted(wanted - {u.id for u in message.ping_users}):
            try:
                info = await self.user(user_id)
            except SlackApiError:
                info = None
            if info:
                names[user_id] = to_member(info, CommunityRef("slack", "-")).display_name

        # A user group that may not ping is written as its handle, as people know it.
        groups = mentioned_groups(message.text) | {
            gid for _, value in message.fields for gid in mentioned_groups(value)
        }
        handles = await self.group_handles() if groups - {r.id for r in message.ping_roles} else {}

        def safe(text: str) -> str:
            return to_mrkdwn(
                text,
                ping_users={u.id for u in message.ping_users},
                ping_groups={r.id for r in message.ping_roles},
                ping_everyone=message.ping_everyone,
                name_of=names.get,
                group_name=handles.get,
            )

        mrkdwn = safe(message.text)
        # ``text`` is mrkdwn too (and is what notifications show): the title is escaped there.
        fallback = (
            " — ".join(p for p in (escape(unescape_markup(message.title or "")), mrkdwn) if p)
            or " "
        )
        kwargs: dict[str, Any] = {"text": fallback[:3000]}
        if render.needs_blocks(message):
            fields = [(safe(name), safe(value)) for name, value in message.fields]
            # Mentions that may ping and are not in the text go above the blocks.
            named = [f"<@&{r.id}>" for r in sorted(message.ping_roles, key=lambda r: r.id)]
            named += [f"<@{u.id}>" for u in sorted(message.ping_users, key=lambda u: u.id)]
            pings = safe(" ".join(m for m in named if m not in message.text))
            kwargs["blocks"] = render.blocks(self.feature, message, mrkdwn, fields, pings)
            if pings:
                kwargs["text"] = f"{pings} {kwargs['text']}"[:3000]
        return kwargs

    async def _post(
        self,
        channel: ChannelRef,
        message: Message,
        thread: str | None,
        key: str | None = None,
        resend: datetime | None = None,
    ) -> MessageRef:
        if key is not None and resend:
            found = await self.find_sent(channel, thread, key, since=resend)
            if found is not None:
                return found
        kwargs = await self.render(message)
        if key is not None:
            kwargs["metadata"] = {"event_type": DELIVERY_EVENT, "event_payload": {"key": key}}
        try:
            async with self.posts[channel.id].slot():
                response = await self.client.chat_postMessage(
                    channel=channel.id,
                    thread_ts=thread,
                    unfurl_links=message.unfurl,
                    unfurl_media=message.unfurl,
                    **kwargs,
                )
        except SlackApiError as exc:
            if key is not None:
                self._posted((channel.id, thread), key, None)
            raise refused("post there", exc) from exc
        except BaseException:  # cut, cancelled, the connection lost: it may land later
            if key is not None:
                self._posted((channel.id, thread), key, None)
            raise
        ts = str(response["ts"])
        # A post to a user id lands in the app's DM with them: the answer names the DM.
        channel = ChannelRef(channel.community, str(response["channel"]), channel.thread)
        if key is not None:
            self._posted((channel.id, thread), key, ts)
        if message.files:
            await self.upload(channel.id, message, thread or ts)
        return MessageRef(channel, ts)

    async def find_sent(
        self, channel: ChannelRef, thread: str | None, key: str, *, since: datetime | None = None
    ) -> MessageRef | None:
        """The message Steward posted with this delivery key in the channel (or thread), found
        by its metadata; None when it never went out.

        Read ``LOOKBACK`` messages a page at a time (``cursor``): a channel's newest first, on
        until the page reaches back past ``since`` (when the delivery was queued, less
        ``LOOK_EARLIER``), so the post is found however busy the channel was after it; a
        thread's replies oldest first, to its end. Without ``since``, the latest page only."""
        bound = None
        if since is not None:
            at = since if since.tzinfo is not None else since.replace(tzinfo=UTC)
            bound = (at - LOOK_EARLIER).timestamp()
        where = (channel.id, thread)
        settled = LOOKS_SETTLED_AFTER.get()
        held = self._reads.get(where)
        if (
            held is not None
            and settled is not None
            and held.started >= settled
            and ((bound is not None and held.reaches <= bound) or held.reaches == 0)
        ):
            ts = held.keys.get(key)
            return MessageRef(channel, ts) if ts is not None else None
        read = _Read(time.monotonic(), 0.0, {})
        found_ts: str | None = None
        cursor = ""
        while True:
            try:
                if thread is None:
                    response = await self.client.conversations_history(
                        channel=channel.id,
                        limit=LOOKBACK,
                        cursor=cursor or None,
                        include_all_metadata=True,
                    )
                else:
                    response = await self.client.conversations_replies(
                        channel=channel.id,
                        ts=thread,
                        limit=LOOKBACK,
                        cursor=cursor or None,
                        include_all_metadata=True,
                    )
            except SlackApiError as exc:
                raise refused("read that channel", exc) from exc
            messages = response.get("messages") or []
            for found in messages:
                metadata = found.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if metadata.get("event_type") == DELIVERY_EVENT and "key" in payload:
                    read.keys.setdefault(str(payload["key"]), str(found["ts"]))
            found_ts = read.keys.get(key)
            cursor = str((response.get("response_metadata") or {}).get("next_cursor") or "")
            more = bool(response.get("has_more") and cursor and messages)
            if not more:
                read.reaches = 0.0  # read to the start
            elif thread is None:
                read.reaches = float(messages[-1].get("ts") or 0)
            else:
                read.reaches = float("inf")  # replies come oldest first: a part says nothing
            if found_ts is not None or bound is None or not more:
                break
            if read.reaches < bound:
                break  # this page reaches back before the delivery was queued
        self._keep(where, read)
        return MessageRef(channel, found_ts) if found_ts is not None else None

    def _keep(self, where: tuple[str, str | None], read: _Read) -> None:
        """Keep a look for the next resend's in that channel (the oldest dropped first)."""
        self._reads.pop(where, None)
        self._reads[where] = read
        while len(self._reads) > READS_KEPT:
            del self._reads[next(iter(self._reads))]

    def _posted(self, where: tuple[str, str | None], key: str, ts: str | None) -> None:
        """A keyed post went out (``ts``), or its outcome is unknown (None): a kept look of
        the channel gains it, or is dropped (the post may land after it and not be in it)."""
        held = self._reads.get(where)
        if held is None:
            return
        if ts is None:
            del self._reads[where]
        else:
            held.keys[key] = ts

    async def upload(self, channel_id: str, message: Message, thread: str | None) -> None:
        """Upload a message's files into a channel or thread."""
        try:
            await self.client.files_upload_v2(
                channel=channel_id,
                thread_ts=thread,
                file_uploads=[
                    {"file": io.BytesIO(f.data), "filename": f.filename, "title": f.filename}
                    for f in message.files
                ],
            )
        except SlackApiError as exc:
            raise refused("upload that file", exc) from exc

    async def send(
        self,
        channel: ChannelRef,
        message: Message,
        *,
        key: str | None = None,
        resend: datetime | None = None,
    ) -> MessageRef:
        """Post in a channel, or in a thread when the ref carries one; with a key, once."""
        return await self._post(channel, message, channel.thread, key, resend)

    async def edit(self, message: MessageRef, new: Message) -> None:
        """Change a post of Steward's (chat.update: its text and blocks; files stay)."""
        kwargs = await self.render(new)
        # chat.update keeps a post's blocks when none are sent: an empty list removes them
        # (a post whose buttons were pressed becomes plain text).
        kwargs.setdefault("blocks", [])
        try:
            async with self.posts[message.channel.id].slot():
                await self.client.chat_update(channel=message.channel.id, ts=message.id, **kwargs)
        except SlackApiError as exc:
            raise refused("edit that post", exc) from exc

    async def reply(self, to: MessageRef, message: Message) -> MessageRef:
        """Reply in the message's thread."""
        thread = to.channel.thread or to.id
        ref = await self._post(ChannelRef(to.channel.community, to.channel.id), message, thread)
        return MessageRef(ChannelRef(to.channel.community, to.channel.id, thread), ref.id)

    async def dm(
        self,
        user: UserRef,
        message: Message,
        *,
        key: str | None = None,
        resend: datetime | None = None,
    ) -> MessageRef | None:
        """Send a DM through the app's messages tab; None when the member can't receive it.

        chat.postMessage takes the member's user id as its channel and posts in the app's DM
        with them (opening it if need be), answering with the DM's id: one call, not a
        conversations.open (Tier 3, about 50 a minute: a join storm's DMs would queue for it)
        before each post. Only a resend opens the DM first, to look in its history (which is
        read by the DM's id) for the message a killed try may have sent."""
        target = ChannelRef(user.community, user.id)
        if key is not None and resend:
            try:
                opened = await self.client.conversations_open(users=user.id)
            except SlackApiError as exc:
                if slack_error(exc) in NO_DM:
                    return None
                raise
            target = ChannelRef(user.community, str(opened["channel"]["id"]))
        try:
            return await self._post(target, message, None, key, resend)
        except Unavailable:
            raise
        except UserError:
            return None

    async def open_thread(self, on: MessageRef, name: str) -> ChannelRef:
        """A Slack thread is the message's channel plus its ``ts``; the first reply opens it."""
        return ChannelRef(on.channel.community, on.channel.id, on.channel.thread or on.id)

    async def open_group(
        self, users: Sequence[UserRef], *, name: str, parent: ChannelRef | None
    ) -> ChannelRef:
        """A group DM with these members (conversations.open; the same people, the same one)."""
        if not 2 <= len(users) <= 8:
            raise UserError("A Slack group DM takes 2 to 8 members.")
        try:
            opened = await self.client.conversations_open(users=",".join(u.id for u in users))
        except SlackApiError as exc:
            raise refused("open a group DM", exc) from exc
        return ChannelRef(users[0].community, str(opened["channel"]["id"]))

    async def crosspost(self, message: MessageRef) -> None:
        """Slack has no announcement channels that others follow."""
        raise NotSupported(Capability.CROSSPOST, self.platform)

    async def forum(self, channel: ChannelRef) -> Forum | None:
        """Slack has no forum channels."""
        return None

    async def _group_members(self, group: str) -> list[str]:
        try:
            response = await self.client.usergroups_users_list(usergroup=group)
        except SlackApiError as exc:
            raise refused("read that user group", exc) from exc
        users: list[Any] = response.get("users", [])
        return [str(u) for u in users]

    async def add_role(self, user: UserRef, role: RoleRef, *, reason: str) -> None:
        """Add a member to a user group (Slack's roles)."""
        members = await self._group_members(role.id)
        if user.id in members:
            return
        try:
            await self.client.usergroups_users_update(
                usergroup=role.id, users=",".join([*members, user.id])
            )
        except SlackApiError as exc:
            raise refused("add them to that user group", exc) from exc
        self.forget_groups()

    async def remove_role(self, user: UserRef, role: RoleRef, *, reason: str) -> None:
        """Remove a member from a user group."""
        members = await self._group_members(role.id)
        if user.id not in members:
            return
        remaining = [m for m in members if m != user.id]
        if not remaining:
            raise UserError("Slack can't leave a user group empty; remove it by hand instead.")
        try:
            await self.client.usergroups_users_update(usergroup=role.id, users=",".join(remaining))
        except SlackApiError as exc:
            raise refused("remove them from that user group", exc) from exc
        self.forget_groups()

    async def timeout(self, user: UserRef, until: datetime | None, *, reason: str) -> None:
        """Slack has no member timeout."""
        raise NotSupported(Capability.TIMEOUT, self.platform)

    async def kick(self, user: UserRef, *, reason: str) -> None:
        """Bots can't remove members from a Slack workspace."""
        raise NotSupported(Capability.KICK, self.platform)

    async def ban(self, user: UserRef, *, reason: str) -> None:
        """Bots can't deactivate Slack accounts."""
        raise NotSupported(Capability.BAN, self.platform)

    async def unban(self, user: UserRef, *, reason: str) -> None:
        """Bots can't reactivate Slack accounts."""
        raise NotSupported(Capability.BAN, self.platform)

    async def delete_message(self, message: MessageRef, *, reason: str) -> None:
        """Delete a message (Slack lets a bot delete only its own)."""
        try:
            await self.client.chat_delete(channel=message.channel.id, ts=message.id)
        except SlackApiError as exc:
            raise refused("delete that message", exc) from exc

    async def purge(self, channel: ChannelRef, user: UserRef, count: int, *, reason: str) -> int:
        """A Slack app may delete only its own messages (chat.delete: cant_delete_message)."""
        raise NotSupported("delete other people's messages", self.platform)

    async def fetch_member(self, user: UserRef) -> Member | None:
        """A member's current snapshot, or None (unknown or deactivated)."""
        found = await self.user(user.id)
        if found is None or found.get("deleted"):
            return None
        return to_member(found, user.community, await self.groups_of(user.id))

    async def add_to_channel(self, user: UserRef, channel: ChannelRef, *, reason: str) -> None:
        """Invite a member to a channel (conversations.invite, with the channel's other
        invitations waiting then: ``invites``); already there is fine."""
        try:
            await self.invites.invite(channel.id, user.id)
        except SlackApiError as exc:
            if slack_error(exc) == "already_in_channel":
                return
            raise refused("invite them to that channel", exc) from exc

    async def _invite(self, channel: str, users: list[str]) -> None:
        await self.client.conversations_invite(channel=channel, users=",".join(users))

    async def remove_from_channel(self, user: UserRef, channel: ChannelRef, *, reason: str) -> bool:
        """Take a member out of a channel (conversations.kick)."""
        try:
            await self.client.conversations_kick(channel=channel.id, user=user.id)
        except SlackApiError as exc:
            if slack_error(exc) in ("not_in_channel", "cant_kick_from_general"):
                return False
            raise refused("remove them from that channel", exc) from exc
        return True

    async def count_members(self, community: CommunityRef) -> int | None:
        """People in the workspace (users.list without bots and deactivated accounts), cached."""
        now = time.monotonic()
        if self._count and now - self._count[0][0] < MEMBER_TTL:
            return self._count[0][1]
        try:
            total = sum([1 async for _ in self._persons()])
        except SlackApiError:
            return None
        self._count[:] = [(now, total)]
        return total

    async def _persons(self) -> AsyncIterator[dict[str, Any]]:
        """The workspace's people, page by page (users.list, ``ROSTER_PAGE`` a page, paced to
        its tier): no bots, no deactivated accounts, no Slackbot."""
        cursor = None
        while True:
            async with self.listing.slot():
                page = await self.client.users_list(limit=ROSTER_PAGE, cursor=cursor)
            for user in page.get("members") or []:
                gone = user.get("deleted") or user.get("is_bot")
                if not gone and user.get("id") and user.get("id") != "USLACKBOT":
                    yield user
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break

    async def everyone(self, community: CommunityRef) -> tuple[Member, ...]:
        """Every person in the workspace: users.list, ``ROSTER_PAGE`` a page, without bots,
        deactivated accounts and Slackbot, the oldest ``updated`` first (a user carries no join
        date; a newcomer's account was last updated when they joined, so this is the nearest
        order of joining Slack gives). The head count is kept as ``count_members``'s, since it
        was just listed. A 429 is waited out by the client (``Retry-After``); SlackApiError
        when Slack refuses the listing."""
        people: list[tuple[float, int, Member]] = []
        async for user in self._persons():
            updated = user.get("updated")
            at = float(updated) if isinstance(updated, int | float) else 0.0
            people.append((at, len(people), to_member(user, community)))
        people.sort(key=lambda p: p[:2])  # listing order among equal times
        self._count[:] = [(time.monotonic(), len(people))]
        return tuple(member for _, _, member in people)

    async def channel_members(self, channel: ChannelRef) -> list[UserRef]:
        """A channel's members (conversations.members) who are people: no bots, no
        deactivated accounts (users.list)."""
        try:
            members: set[str] = set()
            cursor = None
            while True:
                page = await self.client.conversations_members(
                    channel=channel.id, limit=200, cursor=cursor
                )
                members.update(str(u) for u in page.get("members") or [])
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    break
            people = {str(user["id"]) async for user in self._persons()}
        except SlackApiError as exc:
            raise refused("list that channel's members", exc) from exc
        return [UserRef(channel.community, u) for u in sorted(members & people)]

    async def open_form(self, token: str, form: Form) -> None:
        """Open a modal with an interaction's ``trigger_id``."""
        await self.client.views_open(
            trigger_id=token, view=render.modal(self.feature, form, private_metadata="")
        )

    async def channels(self, community: CommunityRef) -> list[ChannelRef]:
        """Channels the app is a member of (conversations.list)."""
        return await history.readable_channels(self, community)

    async def channel_names(self, community: CommunityRef) -> dict[str, str]:
        """Names of the channels the app is a member of (conversations.list)."""
        return await history.channel_names(self)

    async def history(
        self, channel: ChannelRef, after: str | None, limit: int
    ) -> list[MessagePosted | ReactionAdded]:
        """Messages after a ts with thread replies and reactions (conversations.history)."""
        return await history.fetch_history(self, channel, after, limit)
