"""Every loaded feature and what it declares; adapters, dispatcher and scheduler read only this."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bot.core.commands import NAME_RE, CommandSpec
from bot.core.events import Event, ForgetRequested
from bot.core.feature import ComponentMark, Feature, JobSpec

Handler = Callable[..., Awaitable[Any]]


class RegistryError(Exception):
    """A feature declared something that cannot be served on both platforms."""


@dataclass(frozen=True, slots=True)
class Listener:
    """A bound listener and the feature that owns it."""

    feature: Feature
    event: type[Event]
    handler: Handler
    inline: bool = False

    @property
    def name(self) -> str:
        """``feature.method`` for logs."""
        return f"{self.feature.name}.{self.handler.__name__}"


class Registry:
    """The features of this process, checked once at start."""

    def __init__(self, features: Iterable[Feature]) -> None:
        self._features: dict[str, Feature] = {}
        for feature in features:
            if feature.name in self._features:
                raise RegistryError(f"two features are called {feature.name!r}")
            self._features[feature.name] = feature
        self._commands: dict[tuple[str, str], CommandSpec] = {}
        self._listeners: dict[type[Event], tuple[Listener, ...]] = {}
        for feature in self._features.values():
            for spec in feature.command_specs:
                self._check(spec)
                key = (spec.feature, spec.name)
                if key in self._commands:
                    raise RegistryError(f"/{spec.feature} {spec.name} is declared twice")
                self._commands[key] = spec
        self._check_groups()

    @staticmethod
    def _check(spec: CommandSpec) -> None:
        where = f"/{spec.feature} {spec.name}"
        words = spec.name.split(" ")
        if not 1 <= len(words) <= 2 or not all(NAME_RE.match(w) for w in words):
            raise RegistryError(f"{where}: names are one or two words of a-z, 0-9, - and _")
        if not spec.description or len(spec.description) > 100:
            raise RegistryError(f"{where}: needs a one-line description (docstring) of 1-100 chars")
        if len(spec.params) > 25:
            raise RegistryError(f"{where}: at most 25 parameters")
        names: set[str] = set()
        for param in spec.params:
            if not NAME_RE.match(param.name):
                raise RegistryError(f"{where}: parameter {param.name!r} is not a valid name")
            if param.name in names:
                raise RegistryError(f"{where}: parameter {param.name!r} twice")
            names.add(param.name)
            if not param.description or len(param.description) > 100:
                raise RegistryError(
                    f"{where}: parameter {param.name!r} needs a description of 1-100 chars"
                )

    def _check_groups(self) -> None:
        """A word cannot be both a command and a group (Discord forbids it)."""
        for (feature, name), _spec in self._commands.items():
            first = name.split(" ")[0]
            if " " in name and (feature, first) in self._commands:
                raise RegistryError(f"/{feature} {first} is both a command and a group")

    @property
    def features(self) -> tuple[Feature, ...]:
        """All features, in load order."""
        return tuple(self._features.values())

    def feature(self, name: str) -> Feature | None:
        """A feature by name, or None."""
        return self._features.get(name)

    def commands(self, feature: str | None = None) -> list[CommandSpec]:
        """All command specs, or one feature's."""
        return [s for s in self._commands.values() if feature is None or s.feature == feature]

    def command(self, feature: str, name: str) -> CommandSpec | None:
        """One command spec, or None."""
        return self._commands.get((feature, name))

    def handler(self, spec: CommandSpec) -> Handler:
        """The bound method behind a command."""
        handler: Handler = getattr(self._features[spec.feature], spec.method)
        return handler

    def listeners(self, event: type[Event]) -> tuple[Listener, ...]:
        """Listeners for an event type, matching subclasses too (worked out once per type)."""
        known = self._listeners.get(event)
        if known is None:
            known = self._listeners[event] = tuple(self._find_listeners(event))
        return known

    def _find_listeners(self, event: type[Event]) -> list[Listener]:
        found: list[Listener] = []
        if issubclass(event, ForgetRequested):
            found += [Listener(f, ForgetRequested, _forgetting(f)) for f in self._features.values()]
        for feature in self._features.values():
            for method, wanted in feature.listener_marks:
                if issubclass(event, wanted):
                    found.append(
                        Listener(
                            feature,
                            wanted,
                            getattr(feature, method),
                            method in feature.inline_listeners,
                        )
                    )
        return found

    def jobs(self) -> list[JobSpec]:
        """Every recurring job."""
        return [job for f in self._features.values() for job in f.job_specs]

    def job_handler(self, job: JobSpec) -> Handler:
        """The bound method behind a job."""
        handler: Handler = getattr(self._features[job.feature], job.method)
        return handler

    def timer(self, feature: str, name: str) -> Handler | None:
        """The bound handler for a one-off timer, or None."""
        owner = self._features.get(feature)
        if owner is None or name not in owner.timer_marks:
            return None
        handler: Handler = getattr(owner, owner.timer_marks[name])
        return handler

    def endpoints(self) -> list[tuple[Feature, str, str, Handler]]:
        """Every HTTP endpoint: its feature, method, full path (``/<feature><path>``), handler."""
        return [
            (f, mark.method, f"/{f.name}{mark.path}", getattr(f, method))
            for f in self._features.values()
            for method, mark in f.endpoint_marks
        ]

    def message_actions(self) -> list[tuple[str, ComponentMark]]:
        """Every ``@message_action`` of the loaded features, as (feature, mark)."""
        return [
            (feature.name, mark)
            for feature in self.features
            for mark in feature.component_marks.values()
            if mark.menu is not None
        ]

    def component(self, feature: str, action: str) -> tuple[ComponentMark, Handler] | None:
        """The mark and bound handler for a component action, or None."""
        owner = self._features.get(feature)
        if owner is None or action not in owner.component_marks:
            return None
        handler: Handler = getattr(owner, owner.component_methods[action])
        return owner.component_marks[action], handler


def _forgetting(feature: Feature) -> Handler:
    """A feature's ``forget_member`` as a listener of ``ForgetRequested``."""

    async def forget_member(ctx: Any, event: ForgetRequested) -> None:
        await feature.forget_member(ctx, event.user)

    return forget_member
