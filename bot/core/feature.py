"""The Feature base class and the decorators a feature uses to declare what it does."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from bot.core.commands import NAME_RE, CommandSpec, params_from_signature
from bot.core.events import Event
from bot.core.http import METHODS, EndpointMark
from bot.core.members import Level
from bot.core.settings import FeatureSettings

if TYPE_CHECKING:
    from bot.core.context import Context
    from bot.core.ids import UserRef
    from bot.core.runtime import Runtime

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class CommandMark:
    """What ``@command`` records on a method."""

    name: str
    requires: Level
    ephemeral: bool


@dataclass(frozen=True, slots=True)
class ListenerMark:
    """What ``@on`` records on a method."""

    event: type[Event]
    inline: bool = False


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A recurring job: a cron expression or a fixed interval."""

    feature: str
    method: str
    cron: str | None
    every: timedelta | None

    @property
    def id(self) -> str:
        """``feature.method``, unique in the registry."""
        return f"{self.feature}.{self.method}"


@dataclass(frozen=True, slots=True)
class JobMark:
    """What ``@job`` records on a method."""

    cron: str | None
    every: timedelta | None


@dataclass(frozen=True, slots=True)
class TimerMark:
    """What ``@timer`` records on a method."""

    name: str


@dataclass(frozen=True, slots=True)
class ComponentMark:
    """What ``@component`` records on a method."""

    action: str
    requires: Level
    menu: str | None = None
    """For ``@message_action``: the name people pick in a message's menu."""
    outsiders: bool = False
    """Whether a press in a DM may come from someone no longer in the community (a member
    who was banned pressing a button in the notice they got); the handler checks who."""


_MARK = "__steward_mark__"


def _mark(obj: object) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        setattr(func, _MARK, obj)
        return func

    return decorate


def command(
    name: str, *, requires: Level = Level.MEMBER, ephemeral: bool = True
) -> Callable[[F], F]:
    """Declare a command; its typed parameters become options (Discord) and arguments (Slack)."""
    return _mark(CommandMark(name, requires, ephemeral))


def on(event: type[Event], *, inline: bool = False) -> Callable[[F], F]:
    """Declare a listener for an event type (subclasses included).

    ``inline=True`` declares a fast path: the handler is awaited inside ``publish`` with the bare
    event (no unit of work, no settings, not skipped when the feature is off), so it must only
    hand the event to the feature's own background work (an ingest buffer), never block.
    """
    return _mark(ListenerMark(event, inline))


def job(*, cron: str | None = None, every: timedelta | None = None) -> Callable[[F], F]:
    """Declare a recurring job (cron in UTC, or a fixed interval), run per enabled community."""
    if (cron is None) == (every is None):
        raise TypeError("give exactly one of cron= or every=")
    return _mark(JobMark(cron, every))


def timer(name: str) -> Callable[[F], F]:
    """Declare the handler for a durable one-off timer scheduled with ``ctx.timers``."""
    return _mark(TimerMark(name))


def endpoint(method: str, path: str) -> Callable[[F], F]:
    """Declare an HTTP endpoint, served at ``/<feature><path>`` on Steward's HTTP endpoint.

    The handler takes ``(ctx: HttpContext, request: HttpRequest)`` and returns an
    ``HttpResponse``; it runs in one unit of work, committed when it returns.
    """
    if method not in METHODS or not path.startswith("/"):
        raise TypeError(
            f"an endpoint is GET or POST on a path starting with /, not {method} {path}"
        )
    return _mark(EndpointMark(method, path))


def component(
    action: str, *, requires: Level = Level.MEMBER, outsiders: bool = False
) -> Callable[[F], F]:
    """Declare the handler for a button, select or form with this action.

    ``outsiders=True`` lets a press in a DM come from someone not (or no longer) in the
    community, as a member with no roles: the handler must check the presser is the person
    the button is for."""
    return _mark(ComponentMark(action, requires, outsiders=outsiders))


def message_action(action: str, menu: str, *, requires: Level = Level.MEMBER) -> Callable[[F], F]:
    """Declare an action people run on a message from its menu (Discord: a message context-menu
    command named ``menu``; Slack: a message shortcut). It comes back like a press: ``message``
    is the message, and ``fields`` hold its snapshot (``author``, ``text``, ``at``, ISO time,
    and ``files``, the attachments' names, one a line)."""
    return _mark(ComponentMark(action, requires, menu))


class Feature:
    """Base for a Steward feature; subclass with ``name=`` and decorate methods."""

    name: ClassVar[str]
    description: ClassVar[str]
    Settings: ClassVar[type[FeatureSettings]] = FeatureSettings
    always_on: ClassVar[bool] = False
    port_calls: ClassVar[frozenset[str]] = frozenset()
    """The Port methods the feature calls beyond talking (send, reply, dm, forms): the platform
    rights it needs follow from them (Discord permissions, Slack scopes); a test holds each
    feature's declaration to the calls in its source."""
    command_specs: ClassVar[tuple[CommandSpec, ...]]
    listener_marks: ClassVar[tuple[tuple[str, type[Event]], ...]]
    inline_listeners: ClassVar[frozenset[str]]
    job_specs: ClassVar[tuple[JobSpec, ...]]
    timer_marks: ClassVar[dict[str, str]]
    component_marks: ClassVar[dict[str, ComponentMark]]
    component_methods: ClassVar[dict[str, str]]
    endpoint_marks: ClassVar[tuple[tuple[str, EndpointMark], ...]]

    def __init_subclass__(cls, *, name: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not NAME_RE.match(name):
            raise TypeError(f"feature name {name!r} must be 1-32 of a-z, 0-9, - and _")
        cls.name = name
        cls.description = inspect.cleandoc(cls.__doc__ or "").split("\n")[0]
        commands: list[CommandSpec] = []
        listeners: list[tuple[str, type[Event]]] = []
        inline: set[str] = set()
        jobs: list[JobSpec] = []
        timers: dict[str, str] = {}
        components: dict[str, ComponentMark] = {}
        component_methods: dict[str, str] = {}
        endpoints: list[tuple[str, EndpointMark]] = []
        for attr, value in inspect.getmembers(cls, inspect.isfunction):
            mark = getattr(value, _MARK, None)
            if isinstance(mark, CommandMark):
                doc = inspect.cleandoc(value.__doc__ or "").split("\n")[0]
                commands.append(
                    CommandSpec(
                        feature=name,
                        name=mark.name,
                        description=doc,
                        requires=mark.requires,
                        ephemeral=mark.ephemeral,
                        params=params_from_signature(value),
                        method=attr,
                    )
                )
            elif isinstance(mark, ListenerMark):
                listeners.append((attr, mark.event))
                if mark.inline:
                    inline.add(attr)
            elif isinstance(mark, JobMark):
                jobs.append(JobSpec(name, attr, mark.cron, mark.every))
            elif isinstance(mark, TimerMark):
                timers[mark.name] = attr
            elif isinstance(mark, ComponentMark):
                components[mark.action] = mark
                component_methods[mark.action] = attr
            elif isinstance(mark, EndpointMark):
                endpoints.append((attr, mark))
        cls.command_specs = tuple(commands)
        cls.listener_marks = tuple(listeners)
        cls.inline_listeners = frozenset(inline)
        cls.job_specs = tuple(jobs)
        cls.timer_marks = timers
        cls.component_marks = components
        cls.component_methods = component_methods
        cls.endpoint_marks = tuple(endpoints)

    def attach(self, runtime: Runtime) -> None:
        """Called once by the App before ``on_load``; features with background work keep it."""

    async def forget_member(self, ctx: Context[Any], user: UserRef) -> None:
        """Delete what this feature stores about a member (opt-out or deletion request).

        Every feature implements it, even to say it stores nothing; it runs in its own unit of
        work when ``ForgetRequested`` is published, whether the feature is on or off.
        """
        raise NotImplementedError(f"{self.name} does not say how it forgets a member")

    async def on_load(self) -> None:
        """Called once when the process starts, before any event arrives."""

    async def written(self) -> None:
        """Return once what the feature's listeners handed to buffers of its own (outside
        their unit of work) is on disk: a platform event's inbox row is cleared only then
        (``bot.core.inbox``). Nothing to wait for by default."""

    async def on_unload(self) -> None:
        """Called once when the process stops."""
