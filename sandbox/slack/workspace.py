"""The part of the fake a test reads and arranges: identities, world building, queries, faults."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime

from .delivery import Attempt, DeliveryConfig, sign
from .recording import MethodLog
from .server import ApiCall, SlackServer
from .state import (
    APP_ID,
    DEFAULT_BOT_SCOPES,
    Channel,
    Ephemeral,
    Identity,
    StoredMessage,
    Team,
    User,
    UserGroup,
    View,
)
from .validate import SpecValidator

DM_CLOSED_ERRORS = frozenset({"user_not_visible", "user_disabled", "user_not_found"})
"""Errors the 2021 spec lists for conversations.open that mean "no DM with this person"."""
DM_CLOSED_DEFAULT = "user_not_visible"

UserLike = User | str
ChannelLike = Channel | str


class Workspace(SlackServer):
    """World building, identities, read-back queries and fault switches; FakeSlack adds actions."""

    def __init__(
        self,
        *,
        signing_secret: str,
        validator: SpecValidator | None,
        method_log: MethodLog | None,
        config: DeliveryConfig,
        echo_bot_messages: bool,
        team_name: str,
        bot_name: str,
    ) -> None:
        super().__init__(
            signing_secret=signing_secret,
            validator=validator,
            method_log=method_log,
            config=config,
            echo_bot_messages=echo_bot_messages,
        )
        self.app_token = f"xapp-1-{APP_ID}-1-{uuid.uuid4().hex}"
        self.world.tokens[self.app_token] = Identity(
            self.app_token, "app", "", "", None, "connections:write"
        )
        self.team = self.add_team(team_name, bot_name=bot_name)

    # ------------------------------------------------------------------ identities and transport
    @property
    def bot_token(self) -> str:
        """The default team's bot token (xoxb-)."""
        return self.team.bot_token

    @property
    def bot_user_id(self) -> str:
        """The default team's bot user id."""
        return self.team.bot_user_id

    @property
    def bot_id(self) -> str:
        """The default team's bot id (B…)."""
        return self.team.bot_id

    def use_http(self, url: str) -> None:
        """Deliver to the app's request URL as signed POSTs (events, interactivity, commands)."""
        self.http.url = url
        self.socket_mode = False

    def use_socket_mode(self) -> None:
        """Deliver over Socket Mode (before use_http/use_socket_mode nothing is sent)."""
        self.http.url = None
        self.socket_mode = True

    def follow_clock(self, now: Callable[[], datetime]) -> None:
        """Stamp messages (their ``ts``) with this clock's time instead of counting from 2023.

        Real Slack's timestamps and the app's clock agree; give the app's fake clock here when
        a story reads history by time (``oldest`` computed from the app's clock).
        """
        self.world.clock = lambda: now().timestamp()

    # ------------------------------------------------------------------ building the world
    def add_team(self, name: str, *, domain: str | None = None, bot_name: str = "steward") -> Team:
        """A workspace with the app installed, its bot user and a #general channel."""
        tid = self.world.new_id("T")
        bot_user, bot_id = self.world.new_id("U"), self.world.new_id("B")
        token = f"xoxb-{tid}-{uuid.uuid4().hex[:24]}"
        team = Team(
            tid,
            name,
            domain or name.lower().replace(" ", "-"),
            bot_user,
            bot_id,
            token,
            self.world.now(),
        )
        self.world.teams[tid] = team
        self.world.users[bot_user] = User(
            bot_user, tid, bot_name, bot_name, is_bot=True, bot_id=bot_id
        )
        self.world.tokens[token] = Identity(token, "bot", tid, bot_user, bot_id, DEFAULT_BOT_SCOPES)
        general = Channel(
            self.world.new_id("C"), tid, "general", bot_user, self.world.now(), is_general=True
        )
        general.members.append(bot_user)
        self.world.channels[general.id] = general
        self.world.messages[general.id] = []
        return team

    def add_user(
        self,
        name: str,
        *,
        is_admin: bool = False,
        is_owner: bool = False,
        is_bot: bool = False,
        deleted: bool = False,
        email: str | None = None,
        team: Team | None = None,
        in_general: bool = True,
    ) -> User:
        """A member already in the team (no events; use member_joins for newcomers)."""
        t = team or self.team
        user = User(
            self.world.new_id("U"),
            t.id,
            name,
            name.title(),
            is_admin=is_admin or is_owner,
            is_owner=is_owner,
            is_bot=is_bot,
            deleted=deleted,
            email=email or f"{name}@{t.domain}.example",
        )
        self.world.users[user.id] = user
        if in_general and not deleted:
            self.general(t).members.append(user.id)
        return user

    def user_token(self, user: UserLike, scopes: str = "chat:write,channels:read") -> str:
        """A user token (xoxp-) acting as this person."""
        u = self._user(user)
        token = f"xoxp-{u.team_id}-{u.id}-{uuid.uuid4().hex[:16]}"
        self.world.tokens[token] = Identity(token, "user", u.team_id, u.id, None, scopes)
        return token

    def grant_bot_scopes(self, scopes: Iterable[str], *, steward_s: bool = True) -> None:
        """Install the app with exactly these bot scopes (Steward's manifest: ``steward_s``, so
        a ``missing_scope`` answered to Steward is also recorded as a violation)."""
        for team in self.world.teams.values():
            who = self.world.tokens[team.bot_token]
            granted = ",".join(sorted(scopes))
            self.world.tokens[team.bot_token] = dataclasses.replace(who, scopes=granted)
        self.scopes_are_steward_s = steward_s

    def revoke(self, token: str) -> None:
        """Make a token answer token_revoked from now on."""
        self.revoked.add(token)

    def close_dms(self, user: UserLike, error: str = DM_CLOSED_DEFAULT) -> None:
        """The app can no longer DM this person: conversations.open answers ``error``.

        Slack has no per-user "block this app" switch; an app loses a person's DMs when it may no
        longer see them (``user_not_visible``: a guest restricted away from it, an external
        Slack Connect member) or when the account is gone (``user_disabled``). Only errors the
        spec lists for conversations.open are allowed; posting to the person's id or to an IM
        opened before answers ``channel_not_found``, which chat.postMessage lists.
        """
        if error not in DM_CLOSED_ERRORS:
            raise ValueError(f"conversations.open can't refuse a DM with {error!r}")
        self.world.dms_closed[self._user(user).id] = error

    def open_dms(self, user: UserLike) -> None:
        """The app may DM this person again."""
        self.world.dms_closed.pop(self._user(user).id, None)

    def add_channel(
        self,
        name: str,
        *,
        members: tuple[UserLike, ...] | list[UserLike] = (),
        is_private: bool = False,
        bot_member: bool = True,
        team: Team | None = None,
    ) -> Channel:
        """An existing channel (no events); the bot is a member unless bot_member=False."""
        t = team or self.team
        ch = Channel(
            self.world.new_id("C"),
            t.id,
            name,
            t.bot_user_id,
            self.world.now(),
            is_private=is_private,
        )
        ch.members.extend(self._user(m).id for m in members)
        if bot_member:
            ch.members.append(t.bot_user_id)
        self.world.channels[ch.id] = ch
        self.world.messages[ch.id] = []
        return ch

    def add_usergroup(
        self, handle: str, members: list[UserLike], *, name: str | None = None
    ) -> UserGroup:
        """A user group (Slack's stand-in for a role)."""
        group = UserGroup(
            self.world.new_id("S"),
            self.team.id,
            name or handle.title(),
            handle,
            "",
            self.team.bot_user_id,
            [self._user(m).id for m in members],
        )
        self.world.usergroups[group.id] = group
        return group

    def general(self, team: Team | None = None) -> Channel:
        """The team's #general channel."""
        tid = (team or self.team).id
        return next(c for c in self.world.channels.values() if c.team_id == tid and c.is_general)

    def _user(self, user: UserLike) -> User:
        if isinstance(user, User):
            return user
        found = self.world.users.get(user) or next(
            (u for u in self.world.users.values() if u.name == user), None
        )
        if found is None:
            raise KeyError(f"no user {user!r}")
        return found

    def _channel(self, channel: ChannelLike) -> Channel:
        if isinstance(channel, Channel):
            return channel
        found = self.world.channels.get(channel) or next(
            (c for c in self.world.channels.values() if c.name == channel.lstrip("#")), None
        )
        if found is None:
            raise KeyError(f"no channel {channel!r}")
        return found

    # ------------------------------------------------------------------ reading back
    def messages_in(
        self, channel: ChannelLike, *, by: UserLike | None = None
    ) -> list[StoredMessage]:
        """Top-level messages of a channel, oldest first (thread broadcasts included)."""
        ch = self._channel(channel)
        author = self._user(by).id if by is not None else None
        return [
            m
            for m in self.world.messages[ch.id]
            if (not m.is_reply or m.data.get("subtype") == "thread_broadcast")
            and (author is None or m.user == author)
        ]

    def thread(self, message: StoredMessage) -> list[StoredMessage]:
        """A thread: the parent, then its replies."""
        root = message.thread_ts or message.ts
        return [
            m for m in self.world.messages[message.channel] if m.ts == root or m.thread_ts == root
        ]

    def dms_of(self, user: UserLike) -> list[StoredMessage]:
        """Messages in the IM between the bot and this person."""
        u = self._user(user)
        im = self.world.im_with(self.world.teams[u.team_id].bot_user_id, u.id)
        return list(self.world.messages[im.id]) if im is not None else []

    def ephemerals_of(self, user: UserLike, channel: ChannelLike | None = None) -> list[Ephemeral]:
        """Ephemeral messages shown to this person (optionally in one channel)."""
        u = self._user(user)
        cid = self._channel(channel).id if channel is not None else None
        return [e for e in self.world.ephemerals if e.user == u.id and cid in (None, e.channel)]

    def sees(self, user: UserLike, channel: ChannelLike) -> list[StoredMessage | Ephemeral]:
        """What a person sees in a channel: its messages (if allowed) plus their ephemerals."""
        u, ch = self._user(user), self._channel(channel)
        visible: list[StoredMessage | Ephemeral] = []
        if not (ch.is_private or ch.is_im or ch.is_mpim) or u.id in ch.members:
            visible.extend(self.messages_in(ch))
        visible.extend(self.ephemerals_of(u, ch))
        return sorted(visible, key=lambda item: float(item.ts))

    def home_of(self, user: UserLike) -> View | None:
        """The Home tab view published for this person."""
        vid = self.world.home_views.get(self._user(user).id)
        return self.world.views.get(vid) if vid else None

    def modal_of(self, user: UserLike) -> View | None:
        """The modal on top of this person's stack."""
        stack = self.world.modal_stacks.get(self._user(user).id) or []
        return self.world.views[stack[-1]] if stack else None

    def calls_to(self, method: str) -> list[ApiCall]:
        """Every Web API call to one method."""
        return [c for c in self.calls if c.method == method]

    def pinging_messages(self) -> list[StoredMessage]:
        """Every message that pinged someone, deleted ones included ("nobody was pinged").

        Ephemeral messages record their mentions in `.pings` but never notify, as in Slack.
        """
        stored = [*(m for msgs in self.world.messages.values() for m in msgs), *self.world.deleted]
        return [m for m in stored if m.pings.anyone]

    # ------------------------------------------------------------------ faults and crafted requests
    def drop_socket_mid_stream(self, envelopes: int = 1) -> None:
        """Lose the next N envelopes with their connection (the client reconnects, events retry)."""
        self.socket.drop_next += envelopes

    async def socket_disconnect(self, reason: str = "refresh_requested") -> None:
        """Send a `disconnect` frame ("warning", "refresh_requested", "link_disabled")."""
        await self.socket.disconnect(reason)

    async def socket_outage(self) -> None:
        """The Socket Mode link goes down until ``socket_restored()``.

        Open connections are closed; the client's reconnection waits at the websocket handshake
        (apps.connections.open still answers). Envelopes sent meanwhile find no connection and
        are lost with all their retries, as when an app stays away longer than Slack retries.
        """
        await self.socket.outage()

    def socket_restored(self) -> None:
        """End ``socket_outage()``: waiting handshakes complete and each gets its `hello`."""
        self.socket.restore()

    def slow_acks(self, times: int = 1, *, latency: float | None = None) -> None:
        """Make the next N app answers arrive late (by default just past the ack deadline)."""
        self.config.slow_ack_count += times
        self.config.ack_latency = latency if latency is not None else self.config.ack_deadline + 0.2

    def signed_headers(self, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
        """Valid signature headers for these exact bytes (now, or at `timestamp`)."""
        return sign(
            self.signing_secret, body, timestamp if timestamp is not None else int(time.time())
        )

    async def send_raw(self, body: bytes, headers: dict[str, str]) -> Attempt:
        """POST crafted bytes and headers to the app's HTTP endpoint (for signature tests)."""
        return await self.http.post_raw(body, headers)
