"""The gateway websocket: HELLO, IDENTIFY, heartbeats, RESUME with replay, intents, barriers.

Sharding as Discord documents it: a session that identifies with ``shard: [id, count]`` gets the
events of the guilds whose ``(guild_id >> 22) % count`` is its ``id`` (and DMs only on shard 0);
a shard outside ``0 <= id < count`` is closed with 4010. One session per shard: identifying a
shard again replaces its session (the old connection gets nothing more). A session without
``shard`` is shard ``[0, 1]``: it gets everything.

Resuming, as Discord documents it: READY names a ``resume_gateway_url`` (here ``/resume/``, not
the URL the client identified at), and a RESUME is taken only there, with the token that
identified the session, for a session still alive, and a sequence the session has sent and its
buffer still holds; then every dispatch after that sequence is sent again, then RESUMED.
Anything else gets op 9 INVALID_SESSION with ``d: false`` (the client identifies anew). A
session whose connection dropped (a killed client sends no close frame) stays resumable for
``resume_window`` seconds (Discord: a few minutes); one the client closed with 1000 or 1001
ends at once, as Discord ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiohttp import WSMsgType, web

JSON = dict[str, Any]
Payload = JSON | Callable[[int], JSON]  # a payload, or one computed from the session's intents


class Intent:
    """Gateway intent bits."""

    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_MODERATION = 1 << 2
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    GUILD_MESSAGE_REACTIONS = 1 << 10
    DIRECT_MESSAGES = 1 << 12
    DIRECT_MESSAGE_REACTIONS = 1 << 13
    MESSAGE_CONTENT = 1 << 15
    AUTO_MODERATION_EXECUTION = 1 << 21

    PRIVILEGED = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT


_GUILD_EVENT_INTENTS = {
    "GUILD_CREATE": Intent.GUILDS,
    "GUILD_UPDATE": Intent.GUILDS,
    "GUILD_DELETE": Intent.GUILDS,
    "GUILD_ROLE_CREATE": Intent.GUILDS,
    "GUILD_ROLE_UPDATE": Intent.GUILDS,
    "GUILD_ROLE_DELETE": Intent.GUILDS,
    "CHANNEL_CREATE": Intent.GUILDS,
    "CHANNEL_UPDATE": Intent.GUILDS,
    "CHANNEL_DELETE": Intent.GUILDS,
    "THREAD_CREATE": Intent.GUILDS,
    "THREAD_UPDATE": Intent.GUILDS,
    "THREAD_DELETE": Intent.GUILDS,
    "GUILD_MEMBER_ADD": Intent.GUILD_MEMBERS,
    "GUILD_MEMBER_UPDATE": Intent.GUILD_MEMBERS,
    "GUILD_MEMBER_REMOVE": Intent.GUILD_MEMBERS,
    "THREAD_MEMBERS_UPDATE": Intent.GUILD_MEMBERS,
    "GUILD_BAN_ADD": Intent.GUILD_MODERATION,
    "GUILD_BAN_REMOVE": Intent.GUILD_MODERATION,
    "GUILD_AUDIT_LOG_ENTRY_CREATE": Intent.GUILD_MODERATION,
    "MESSAGE_CREATE": Intent.GUILD_MESSAGES,
    "MESSAGE_UPDATE": Intent.GUILD_MESSAGES,
    "MESSAGE_DELETE": Intent.GUILD_MESSAGES,
    "MESSAGE_DELETE_BULK": Intent.GUILD_MESSAGES,
    "MESSAGE_REACTION_ADD": Intent.GUILD_MESSAGE_REACTIONS,
    "MESSAGE_REACTION_REMOVE": Intent.GUILD_MESSAGE_REACTIONS,
    "AUTO_MODERATION_ACTION_EXECUTION": Intent.AUTO_MODERATION_EXECUTION,
}
_DM_EVENT_INTENTS = {
    "MESSAGE_CREATE": Intent.DIRECT_MESSAGES,
    "MESSAGE_UPDATE": Intent.DIRECT_MESSAGES,
    "MESSAGE_DELETE": Intent.DIRECT_MESSAGES,
    "MESSAGE_REACTION_ADD": Intent.DIRECT_MESSAGE_REACTIONS,
    "MESSAGE_REACTION_REMOVE": Intent.DIRECT_MESSAGE_REACTIONS,
}


def required_intent(event: str, *, in_guild: bool) -> int:
    """Return the intent an event needs (0 = always delivered)."""
    table = _GUILD_EVENT_INTENTS if in_guild else _DM_EVENT_INTENTS
    return table.get(event, 0)


class GatewayHost(Protocol):
    """What the gateway needs from the fake: credentials and the world as payloads."""

    token: str

    def enabled_privileged_intents(self) -> int:
        """Return the privileged intents switched on 'in the developer portal'."""

    def ready_payload(self, session: Session) -> JSON:
        """Return READY's ``d``."""

    def guild_create_payloads(self, session: Session) -> list[JSON]:
        """Return one GUILD_CREATE ``d`` per guild the bot is in."""

    def member_chunks(self, session: Session, request: JSON) -> list[JSON]:
        """Return GUILD_MEMBERS_CHUNK payloads answering an op 8 request."""

    def notify(self) -> None:
        """Wake up anyone waiting for a state change."""


@dataclass
class Session:
    """A gateway session: survives dropped connections until invalidated."""

    id: str
    intents: int
    shard: list[int] | None
    token: str = ""  # the token that identified it: only that one resumes it
    seq: int = 0
    frames: list[JSON] = field(default_factory=list)  # replay buffer
    queue: asyncio.Queue[JSON | None] | None = None  # outbox of the live connection
    ws: web.WebSocketResponse | None = None
    request: web.Request | None = None
    ready: bool = False  # READY/RESUMED sent on the live connection
    gone_at: float | None = None  # loop time its last connection ended (None while connected)

    def has(self, intent: int) -> bool:
        """Return True if the session identified with this intent."""
        return bool(self.intents & intent)

    @property
    def shard_id(self) -> int:
        """The shard this session is (0 when it identified without one)."""
        return self.shard[0] if self.shard else 0

    def serves(self, guild_id: str | int | None) -> bool:
        """Whether a guild's events (None: a DM's) go to this session, by Discord's rule."""
        shard_id, count = self.shard if self.shard else (0, 1)
        if guild_id is None:
            return shard_id == 0
        return (int(guild_id) >> 22) % count == shard_id


@dataclass
class ClientFrame:
    """A frame the client sent, with the connection it came on."""

    op: int
    d: Any
    connection: int


class Gateway:
    """Serves the websocket at ``/`` and dispatches events to the bot's session."""

    HEARTBEAT_INTERVAL_MS = 41250
    REPLAY_LIMIT = 10_000
    RESUME_PATH = "/resume/"
    """Where READY's ``resume_gateway_url`` points; a RESUME elsewhere is refused."""
    RESUME_WINDOW = 180.0
    """Seconds a session stays resumable after its connection dropped."""

    def __init__(self, host: GatewayHost, url: Callable[[], str], speed: float = 1.0) -> None:
        """``speed``: HELLO's heartbeat interval is Discord's divided by it (the platform speed
        the fake's rate limits and Steward's gateway timeout follow too)."""
        self.host = host
        self.url = url
        self.heartbeat_interval_ms = round(self.HEARTBEAT_INTERVAL_MS / speed)
        self.resume_window = self.RESUME_WINDOW
        self.invalid_resumes = 0  # RESUMEs answered with op 9 INVALID_SESSION
        self.sessions: dict[int, Session] = {}  # by shard id
        self.client_frames: list[ClientFrame] = []
        self.sent_frames: list[JSON] = []
        self.connections = 0
        self.identifies = 0
        self.resumes = 0
        self.close_codes: list[int] = []  # closes the fake sent
        self.ended: list[int | None] = []  # each connection's close code, whoever closed it
        self.query: dict[str, str] = {}
        self.lost: list[JSON] = []  # dispatches lost while disconnected (see drop(replay=False))
        self._lossy = False
        self._live: set[web.WebSocketResponse] = set()
        self._silent: set[web.WebSocketResponse] = set()  # zombie connections (see zombie())
        self._closing: set[web.WebSocketResponse] = set()  # closed by the fake, not the client

    @property
    def session(self) -> Session | None:
        """The session of shard 0 (the only one of a bot that does not shard)."""
        return self.sessions.get(0)

    def session_for(self, guild_id: str | int | None) -> Session | None:
        """The session a guild's events (None: a DM's) are dispatched to."""
        return next((s for s in self.sessions.values() if s.serves(guild_id)), None)

    # ------------------------------------------------------------------ server side
    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Serve one websocket connection."""
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        self.connections += 1
        connection = self.connections
        self.query = dict(request.query)
        self._live.add(ws)
        queue: asyncio.Queue[JSON | None] = asyncio.Queue()
        writer = asyncio.create_task(self._writer(ws, queue), name="fake-discord-gateway-writer")
        queue.put_nowait({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                self.client_frames.append(
                    ClientFrame(frame.get("op", -1), frame.get("d"), connection)
                )
                await self._on_frame(ws, request, queue, frame)
                self.host.notify()
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self._live.discard(ws)
            self._silent.discard(ws)
            self.ended.append(ws.close_code)
            queue.put_nowait(None)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            # A close frame from the client with 1000 or 1001 ends its session (Discord shows the
            # bot offline); a dropped connection leaves it resumable for a while.
            ended = ws not in self._closing and ws.close_code in (1000, 1001)
            self._closing.discard(ws)
            for s in self.sessions.values():
                if s.ws is ws:
                    s.ws = s.queue = s.request = None
                    s.ready = False
                    s.gone_at = asyncio.get_running_loop().time()
                    if ended:
                        s.id = "closed-" + s.id
            self.host.notify()
        return ws

    async def _writer(self, ws: web.WebSocketResponse, queue: asyncio.Queue[JSON | None]) -> None:
        while True:
            frame = await queue.get()
            if frame is None or ws.closed:
                return
            if ws in self._silent:
                continue
            frame.setdefault("s", None)
            frame.setdefault("t", None)
            try:
                await ws.send_str(json.dumps(frame))
            except (ConnectionResetError, RuntimeError):
                return
            self.sent_frames.append(frame)
            self.host.notify()

    async def _on_frame(
        self,
        ws: web.WebSocketResponse,
        request: web.Request,
        queue: asyncio.Queue[JSON | None],
        frame: JSON,
    ) -> None:
        op, d = frame.get("op"), frame.get("d")
        if ws in self._silent:
            return  # a zombie connection reads and answers nothing
        if op == 1:
            queue.put_nowait({"op": 11, "d": None})
        elif op == 2:
            await self._identify(ws, request, queue, d or {})
        elif op == 6:
            await self._resume(ws, request, queue, d or {})
        elif op == 8:
            s = next((s for s in self.sessions.values() if s.ws is ws), None)
            if s is not None and s.serves((d or {}).get("guild_id")):
                for chunk in self.host.member_chunks(s, d or {}):
                    self.dispatch("GUILD_MEMBERS_CHUNK", chunk, session=s)
        elif op in (3, 4):
            pass  # presence / voice state updates are accepted and ignored
        else:
            await self._close(ws, 4001, b"Unknown opcode.")

    async def _close(self, ws: web.WebSocketResponse, code: int, reason: bytes) -> None:
        self.close_codes.append(code)
        self._closing.add(ws)
        await ws.close(code=code, message=reason)

    async def _identify(
        self,
        ws: web.WebSocketResponse,
        request: web.Request,
        queue: asyncio.Queue[JSON | None],
        d: JSON,
    ) -> None:
        if d.get("token") != self.host.token:
            await self._close(ws, 4004, b"Authentication failed.")
            return
        intents = int(d.get("intents", 0))
        if intents & Intent.PRIVILEGED & ~self.host.enabled_privileged_intents():
            await self._close(ws, 4014, b"Disallowed intent(s).")
            return
        shard = d.get("shard")
        if shard is not None and not _valid_shard(shard):
            await self._close(ws, 4010, b"Invalid shard.")
            return
        self.identifies += 1
        self._lossy = False
        s = Session(secrets.token_hex(16), intents, list(shard) if shard else None, d["token"])
        self.sessions[s.shard_id] = s
        s.ws, s.queue, s.request = ws, queue, request
        s.ready = True
        self.dispatch("READY", self.host.ready_payload(s), session=s)
        for payload in self.host.guild_create_payloads(s):
            self.dispatch("GUILD_CREATE", payload, session=s)

    async def _resume(
        self,
        ws: web.WebSocketResponse,
        request: web.Request,
        queue: asyncio.Queue[JSON | None],
        d: JSON,
    ) -> None:
        if d.get("token") != self.host.token:
            await self._close(ws, 4004, b"Authentication failed.")
            return
        s = next((s for s in self.sessions.values() if s.id == d.get("session_id")), None)
        refused = Intent.PRIVILEGED & ~self.host.enabled_privileged_intents()
        if s is not None and s.intents & refused:
            await self._close(ws, 4014, b"Disallowed intent(s).")
            return
        seq = d.get("seq")
        now = asyncio.get_running_loop().time()
        if (
            s is None
            or request.path != self.RESUME_PATH  # not at the session's resume_gateway_url
            or s.token != d.get("token")
            or not isinstance(seq, int)
            or seq > s.seq
            or not self._can_replay(s, seq)
            or (s.ws is None and s.gone_at is not None and now - s.gone_at > self.resume_window)
        ):
            self.invalid_resumes += 1
            queue.put_nowait({"op": 9, "d": False})
            return
        if s.ws is not None and s.ws is not ws:
            self._closing.add(s.ws)
            await s.ws.close(code=4000)
        self.resumes += 1
        self._lossy = False
        s.ws, s.queue, s.request = ws, queue, request
        s.gone_at = None
        for frame in s.frames:
            if frame["s"] > seq:
                queue.put_nowait(dict(frame))
        s.ready = True
        # RESUMED ends this connection's replay: it is not one of the session's events, and a
        # later RESUME does not replay it.
        self.dispatch("RESUMED", {"_trace": ["fake-discord"]}, session=s, replay=False)

    @staticmethod
    def _can_replay(s: Session, seq: int) -> bool:
        return not s.frames or s.frames[0]["s"] <= seq + 1

    # ------------------------------------------------------------------ dispatching
    def dispatch(
        self,
        event: str,
        data: Payload,
        *,
        intent: int = 0,
        guild_id: str | int | None = None,
        session: Session | None = None,
        replay: bool = True,
    ) -> int | None:
        """Queue a DISPATCH for the session of the guild's shard (``guild_id`` None: a DM's or
        a session's own event, shard 0; or the ``session`` given), buffered for replay if
        disconnected.

        Returns the sequence number, or None when no session exists, the intent is missing or
        the dispatch is lost (a lossy drop).
        """
        s = session if session is not None else self.session_for(guild_id)
        if s is None or (intent and not s.has(intent)):
            return None
        payload = data(s.intents) if callable(data) else data
        if self._lossy and not (s.queue is not None and s.ready):
            self.lost.append({"t": event, "d": payload})
            return None
        s.seq += 1
        frame = {"op": 0, "s": s.seq, "t": event, "d": payload}
        if replay:
            s.frames.append(frame)
        if len(s.frames) > self.REPLAY_LIMIT:
            del s.frames[: len(s.frames) - self.REPLAY_LIMIT]
        if s.queue is not None and s.ready:
            s.queue.put_nowait(dict(frame))
        self.host.notify()
        return s.seq

    def send_op(self, op: int, d: Any = None) -> bool:
        """Send a non-dispatch opcode on the live connection; False if none."""
        s = self.session
        if s is None or s.queue is None:
            return False
        s.queue.put_nowait({"op": op, "d": d})
        return True

    @property
    def connected(self) -> bool:
        """Return True while the bot's session has a live, ready connection."""
        s = self.session
        return s is not None and s.ws is not None and s.ready and not s.ws.closed

    def last_heartbeat_seq(self, since_frame: int) -> int | None:
        """Return the highest heartbeat ``d`` the client sent after a given frame index."""
        best: int | None = None
        for f in self.client_frames[since_frame:]:
            if f.op == 1 and isinstance(f.d, int) and (best is None or f.d > best):
                best = f.d
        return best

    # ------------------------------------------------------------------ faults
    def request_reconnect(self) -> None:
        """Send op 7 RECONNECT: the client reconnects and RESUMEs."""
        self.send_op(7)

    def invalidate_session(self, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; with ``resumable`` False the session is forgotten."""
        self.send_op(9, resumable)
        if not resumable and self.session is not None:
            self.session.id = "invalidated-" + self.session.id

    def drop(self, *, replay: bool = True) -> bool:
        """Cut the TCP connection without a close frame (the client sees 1006).

        With ``replay`` False, dispatches until the client has resumed or identified again are
        lost (not sequenced, not buffered): the RESUME succeeds but replays none of them.
        """
        s = self.session
        if s is None or s.request is None or s.request.transport is None:
            return False
        s.ready = False
        self._lossy = not replay
        s.request.transport.abort()
        return True

    def zombie(self) -> bool:
        """The live connection goes silent with TCP still open: no heartbeat ACK, no dispatch,
        nothing answered (a zombie). Dispatches are buffered for a RESUME as if disconnected;
        the client has to notice the silence, close and RESUME. False if no live connection."""
        s = self.session
        if s is None or s.ws is None or s.ws.closed:
            return False
        s.ready = False
        self._silent.add(s.ws)
        return True

    async def close(self, code: int) -> None:
        """Close the live connection with a close code.

        4009 (session timed out) also ends the session, as Discord does: the client's RESUME is
        refused and it has to IDENTIFY again."""
        s = self.session
        if s is not None and code == 4009:
            s.id = "timed-out-" + s.id
        if s is not None and s.ws is not None:
            await self._close(s.ws, code, b"")

    async def shutdown(self) -> None:
        """Close every live websocket (server shutdown)."""
        for ws in list(self._live):
            self._closing.add(ws)
            await ws.close(code=1001)


def _valid_shard(shard: Any) -> bool:
    """``[shard_id, num_shards]`` with ``0 <= shard_id < num_shards``, as Discord requires."""
    return (
        isinstance(shard, list)
        and len(shard) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) for n in shard)
        and 0 <= shard[0] < shard[1]
    )
