"""FakeSlack: a protocol-faithful Slack on 127.0.0.1, driven the way people act in the client."""

from __future__ import annotations

import time
import uuid
from types import TracebackType
from typing import Any

from . import payloads
from .delivery import Delivery, DeliveryConfig
from .faults import MethodLimit, PostLimit
from .outcomes import Outcome, Shown, ViewOutcome
from .recording import MethodLog
from .server import ResponseTarget
from .specs import load_specs
from .state import (
    Ephemeral,
    StoredMessage,
    User,
    View,
)
from .validate import SpecValidator, validator_for
from .webapi_apps import react
from .webapi_conversations import join_channel, leave_channel
from .workspace import ChannelLike, UserLike, Workspace


class FakeSlack(Workspace):
    """One fake Slack: state, Web API, event delivery (signed HTTP or Socket Mode), validation."""

    def __init__(
        self,
        *,
        signing_secret: str = "fake-signing-secret",
        validate: bool | SpecValidator = True,
        method_log: MethodLog | None = None,
        ack_deadline: float = 3.0,
        retry_delays: tuple[float, ...] = (0.0, 0.0, 0.0),
        connect_timeout: float = 5.0,
        echo_bot_messages: bool = True,
        team_name: str = "Steward Test",
        bot_name: str = "steward",
        speed: float | None = None,
    ) -> None:
        validator = validator_for(load_specs()) if validate is True else validate or None
        config = DeliveryConfig(
            ack_deadline=ack_deadline, retry_delays=retry_delays, connect_timeout=connect_timeout
        )
        super().__init__(
            signing_secret=signing_secret,
            validator=validator,
            method_log=method_log,
            config=config,
            echo_bot_messages=echo_bot_messages,
            team_name=team_name,
            bot_name=bot_name,
        )
        self.post_limit = PostLimit(speed)
        self.method_limit = MethodLimit(speed)

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ people acting
    async def member_joins(
        self, name: str, *, dms_open: bool = True, settle: bool = True, **kwargs: Any
    ) -> User:
        """A newcomer joins the team: `team_join`, then `member_joined_channel` in #general.

        ``dms_open=False``: the app can't DM them from the start (see ``close_dms``).
        ``settle=False``: return without waiting for the app's calls to end (a storm of joins
        keeps some in flight all along)."""
        user = self.add_user(name, in_general=False, **kwargs)
        if not dms_open:
            self.close_dms(user)
        ts = self.world.next_ts()
        await self.deliver_event(
            user.team_id, {"type": "team_join", "user": user.to_api(), "event_ts": ts}
        )
        await self.joins(user, self.general(self.world.teams[user.team_id]), settle=settle)
        return user

    async def joins(
        self,
        user: UserLike,
        channel: ChannelLike,
        inviter: UserLike | None = None,
        *,
        settle: bool = True,
    ) -> None:
        """A member joins a channel (member_joined_channel + channel_join message events)."""
        inv = self._user(inviter).id if inviter is not None else None
        join_channel(self.api, self._channel(channel), self._user(user).id, inv)
        if settle:
            await self.settle()

    async def leaves(self, user: UserLike, channel: ChannelLike) -> None:
        """A member leaves a channel (member_left_channel + channel_leave message events)."""
        leave_channel(self.api, self._channel(channel), self._user(user).id)
        await self.settle()

    async def user_says(
        self,
        user: UserLike,
        channel: ChannelLike,
        text: str,
        thread_ts: str | None = None,
        *,
        blocks: list[dict[str, Any]] | None = None,
    ) -> StoredMessage:
        """A person posts; the app gets `message` (and `app_mention` when the bot is mentioned)."""
        u, ch = self._user(user), self._channel(channel)
        if u.id not in ch.members:
            raise PermissionError(f"{u.name} is not in #{ch.name}")
        ts = self.world.next_ts()
        section = {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
        data: dict[str, Any] = {
            "type": "message",
            "user": u.id,
            "text": text,
            "ts": ts,
            "team": u.team_id,
            "client_msg_id": str(uuid.uuid4()),
            "blocks": blocks or [{"type": "rich_text", "block_id": "b0", "elements": [section]}],
        }
        parent = self.world.find_message(ch.id, thread_ts) if thread_ts else None
        if thread_ts is not None:
            if parent is None:
                raise KeyError(f"no message {thread_ts} in #{ch.name}")
            data.update(thread_ts=parent.thread_ts or parent.ts, parent_user_id=parent.user)
        msg = StoredMessage(
            ch.id, data, self.world.compute_pings(ch, u.id, text, blocks, None), via="user"
        )
        self.world.messages[ch.id].append(msg)
        if parent is not None:
            self.api.add_reply(parent, msg)
        event = self.api.message_event(ch, msg)
        await self.deliver_event(ch.team_id, event)
        bot = self.world.teams[ch.team_id].bot_user_id
        if f"<@{bot}>" in text and not ch.is_im:
            mention = {k: v for k, v in event.items() if k != "channel_type"}
            mention["type"] = "app_mention"
            await self.deliver_event(ch.team_id, mention)
        return msg

    async def user_edits(self, user: UserLike, message: StoredMessage, text: str) -> None:
        """A person edits their message (message_changed)."""
        u, ch = self._user(user), self._channel(message.channel)
        previous = dict(message.data)
        message.data["text"] = text
        edited_ts = self.world.next_ts()
        message.data["edited"] = {"user": u.id, "ts": edited_ts}
        event = {
            "type": "message",
            "subtype": "message_changed",
            "hidden": True,
            "channel": ch.id,
            "channel_type": ch.channel_type,
            "ts": edited_ts,
            "event_ts": edited_ts,
            "message": dict(message.data),
            "previous_message": previous,
        }
        await self.deliver_event(ch.team_id, event)

    async def react(self, user: UserLike, message: StoredMessage, emoji: str) -> None:
        """A person adds a reaction (reaction_added)."""
        ch = self._channel(message.channel)
        react(self.api, ch, message, self._user(user).id, emoji.strip(":"), add=True)
        await self.settle()

    async def unreact(self, user: UserLike, message: StoredMessage, emoji: str) -> None:
        """A person removes a reaction (reaction_removed)."""
        ch = self._channel(message.channel)
        react(self.api, ch, message, self._user(user).id, emoji.strip(":"), add=False)
        await self.settle()

    async def open_home(self, user: UserLike, tab: str = "home") -> Delivery:
        """A person opens the app's Home tab (app_home_opened, with `view` once published)."""
        u = self._user(user)
        team = self.world.teams[u.team_id]
        bot = self.world.tokens[team.bot_token]
        ch, _ = self.api.open_im(bot, u.id)
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": u.id,
            "channel": ch.id,
            "tab": tab,
            "event_ts": self.world.next_ts(),
        }
        home = self.home_of(u)
        if home is not None:
            event["view"] = dict(home.data)
        return await self.deliver_event(team.id, event)

    def _finish(self, outcome: Outcome, target: ResponseTarget | None, label: str) -> None:
        if not outcome.delivery.ok:
            timed_out = any(
                a.outcome in {"timeout", "lost"} or a.late for a in outcome.delivery.attempts
            )
            outcome.error = "operation_timeout" if timed_out else "dispatch_failed"
            text = f'{label} failed with the error "{outcome.error}"'
            outcome.shown.append(Shown(text, None, True, "error"))
            if target is not None:
                self.world.ephemerals.append(
                    Ephemeral(
                        target.channel, target.user, text, None, self.world.next_ts(), "error"
                    )
                )

    async def slash(
        self, user: UserLike, command: str, text: str = "", channel: ChannelLike | None = None
    ) -> Outcome:
        """A person runs a slash command; returns what they saw (ack, respond() posts, errors)."""
        u = self._user(user)
        team = self.world.teams[u.team_id]
        ch = self._channel(channel) if channel is not None else self.general(team)
        target = ResponseTarget(team.id, ch.id, u.id)
        trigger = self.api.issue_trigger(u.id, team.id)
        form = payloads.slash_form(
            team, u, ch, command, text, self.new_response_url(target), trigger
        )
        outcome = Outcome(Delivery("slash", form))
        target.outcome = outcome
        await self.deliver("slash", form, delivery=outcome.delivery)
        ack = outcome.ack
        if ack:
            self.apply_response(target, ack, via="ack")
        self._finish(outcome, target, command)
        return outcome

    async def _interact(self, payload: dict[str, Any], target: ResponseTarget | None) -> Outcome:
        outcome = Outcome(Delivery("interactive", payload))
        if target is not None:
            target.outcome = outcome
        await self.deliver("interactive", payload, delivery=outcome.delivery)
        self._finish(outcome, None, "interaction")
        return outcome

    async def click(
        self,
        user: UserLike,
        source: StoredMessage | Ephemeral | View,
        action_id: str,
        value: str | None = None,
        *,
        selected: Any = None,
    ) -> Outcome:
        """A person presses a button (or picks an option) in a message, ephemeral or view."""
        u = self._user(user)
        team = self.world.teams[u.team_id]
        blocks = (
            source.data.get("blocks") if isinstance(source, StoredMessage | View) else source.blocks
        )
        found = payloads.find_element(blocks, action_id)
        if found is None:
            raise LookupError(f"no element with action_id {action_id!r}")
        block_id, element = found
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id,
            "type": element.get("type", "button"),
            "action_ts": f"{time.time():.6f}",
        }
        if selected is not None:
            action.update(
                {k: v for k, v in payloads.element_value(element, selected).items() if k != "type"}
            )
        else:
            action["value"] = value if value is not None else element.get("value", "")
            if "text" in element:
                action["text"] = element["text"]
        trigger = self.api.issue_trigger(u.id, team.id)
        if isinstance(source, View):
            payload = payloads.block_actions(team, u, action, trigger, view=source)
            return await self._interact(payload, None)
        ch = self._channel(source.channel)
        is_eph = isinstance(source, Ephemeral)
        target = ResponseTarget(team.id, ch.id, u.id, source.ts, is_eph)
        payload = payloads.block_actions(
            team,
            u,
            action,
            trigger,
            channel=ch,
            message=source if isinstance(source, StoredMessage) else None,
            message_ts=source.ts,
            is_ephemeral=is_eph,
            response_url=self.new_response_url(target),
        )
        return await self._interact(payload, target)

    async def select(
        self, user: UserLike, source: StoredMessage | Ephemeral | View, action_id: str, value: Any
    ) -> Outcome:
        """A person picks an option in a select menu (block_actions with selected_option & co)."""
        return await self.click(user, source, action_id, selected=value)

    async def shortcut(self, user: UserLike, callback_id: str) -> Outcome:
        """A person runs a global shortcut."""
        u = self._user(user)
        team = self.world.teams[u.team_id]
        payload = payloads.shortcut(team, u, callback_id, self.api.issue_trigger(u.id, team.id))
        return await self._interact(payload, None)

    async def message_shortcut(
        self, user: UserLike, message: StoredMessage, callback_id: str
    ) -> Outcome:
        """A person runs a message shortcut on a message."""
        u = self._user(user)
        team = self.world.teams[u.team_id]
        ch = self._channel(message.channel)
        target = ResponseTarget(team.id, ch.id, u.id)
        trigger = self.api.issue_trigger(u.id, team.id)
        payload = payloads.message_action(
            team, u, ch, message, callback_id, trigger, self.new_response_url(target)
        )
        return await self._interact(payload, target)

    async def submit_view(
        self, user: UserLike, view: View | str, values: dict[str, Any]
    ) -> ViewOutcome:
        """A person submits a modal with {action_id: value}; returns closed/errors/update/push."""
        u = self._user(user)
        v = self.world.views[view] if isinstance(view, str) else view
        v.data["state"] = {"values": payloads.input_state(v, values)}
        team = self.world.teams[u.team_id]
        payload = payloads.view_submission(team, u, v, self.api.issue_trigger(u.id, team.id))
        outcome = ViewOutcome(Delivery("interactive", payload))
        await self.deliver("interactive", payload, delivery=outcome.delivery)
        self._finish(outcome, None, "view_submission")
        if outcome.error:
            outcome.action = "none"
            return outcome
        ack = outcome.ack or {}
        action = str(ack.get("response_action", "close"))
        outcome.action = action
        stack = self.world.modal_stacks.setdefault(u.id, [])
        if action == "errors":
            outcome.errors = dict(ack.get("errors", {}))
        elif action == "update":
            self.api.replace_view(v, ack.get("view"))
        elif action == "push":
            pushed = self.api.new_view(
                team.id, u.id, ack.get("view"), root=stack[0] if stack else None
            )
            stack.append(pushed.id)
        elif action == "clear":
            stack.clear()
        elif v.id in stack:
            stack.remove(v.id)
        return outcome

    async def close_view(self, user: UserLike, view: View | str) -> Outcome | None:
        """A person closes a modal; view_closed is sent only if the view set notify_on_close."""
        u = self._user(user)
        v = self.world.views[view] if isinstance(view, str) else view
        stack = self.world.modal_stacks.get(u.id, [])
        if v.id in stack:
            stack.remove(v.id)
        if not v.data.get("notify_on_close"):
            return None
        team = self.world.teams[u.team_id]
        return await self._interact(payloads.view_closed(team, u, v), None)
