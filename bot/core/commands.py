"""Typed command declarations: parameters read from annotations become a CommandSpec."""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from bot.core.errors import UserError
from bot.core.ids import ChannelRef, Destination, RoleRef
from bot.core.members import Level, Member

NAME_RE = re.compile(r"^[a-z0-9_\-]{1,32}$")
"""Valid on both platforms: Discord's option/command names and Slack's command words."""


class ParamKind(StrEnum):
    """The kinds of value a command parameter can take."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    MEMBER = "member"
    CHANNEL = "channel"
    DESTINATION = "destination"
    ROLE = "role"
    DURATION = "duration"
    FILE = "file"


@dataclass(frozen=True, slots=True)
class AttachedFile:
    """A file attached to the command. Only Discord carries these: Slack's slash commands
    cannot, so there the parameter is always absent (and not offered)."""

    filename: str
    content_type: str
    size: int
    fetch: Callable[[], Awaitable[bytes]] = field(repr=False, compare=False)

    async def read(self, limit: int) -> bytes:
        """The file's bytes; ``UserError`` when it is bigger than ``limit`` bytes."""
        if self.size > limit:
            raise self._too_big(limit)
        data = await self.fetch()
        if len(data) > limit:
            raise self._too_big(limit)
        return data

    def _too_big(self, limit: int) -> UserError:
        return UserError(
            f"{self.filename[:100]} is too big: I read files up to {limit // 1024} KiB."
        )


_KINDS: dict[Any, ParamKind] = {
    str: ParamKind.STRING,
    int: ParamKind.INTEGER,
    float: ParamKind.NUMBER,
    bool: ParamKind.BOOLEAN,
    Member: ParamKind.MEMBER,
    ChannelRef: ParamKind.CHANNEL,
    Destination: ParamKind.DESTINATION,
    RoleRef: ParamKind.ROLE,
    timedelta: ParamKind.DURATION,
    AttachedFile: ParamKind.FILE,
}

KIND_HINTS: dict[ParamKind, str] = {
    ParamKind.STRING: "text",
    ParamKind.INTEGER: "a whole number",
    ParamKind.NUMBER: "a number",
    ParamKind.BOOLEAN: "on or off",
    ParamKind.MEMBER: "a member, like @alice",
    ParamKind.CHANNEL: "a channel, like #general",
    ParamKind.DESTINATION: "a channel or forum, like #news",
    ParamKind.ROLE: "a role, like @moderators",
    ParamKind.DURATION: "a duration, like 10m, 2h or 3d",
    ParamKind.FILE: "a file attached to the command",
}


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One parameter of a command."""

    name: str
    kind: ParamKind
    description: str
    required: bool = True
    choices: tuple[str, ...] = ()
    default: Any = None

    @property
    def usage(self) -> str:
        """``<member>`` when required, ``[reason]`` when optional."""
        label = "|".join(self.choices) if self.choices else self.name
        return f"<{label}>" if self.required else f"[{label}]"


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """Everything the adapters need to offer a command, and the core to check it."""

    feature: str
    name: str
    description: str
    requires: Level
    ephemeral: bool
    params: tuple[ParamSpec, ...]
    method: str

    @property
    def words(self) -> tuple[str, ...]:
        """The command's words after the feature: ``("settings", "show")``."""
        return tuple(self.name.split(" "))

    @property
    def usage(self) -> str:
        """A usage line such as ``/moderation warn <member> <reason>``."""
        parts = [f"/{self.feature}", self.name, *(p.usage for p in self.params)]
        return " ".join(parts)

    @property
    def typed_usage(self) -> str:
        """The usage line for platforms that send one line of text, which carries no files."""
        parts = [f"/{self.feature}", self.name]
        parts += [p.usage for p in self.params if p.kind is not ParamKind.FILE]
        return " ".join(parts)


def _unwrap(annotation: Any) -> tuple[Any, str | None, bool]:
    """Return (base type, description, optional) for an annotation."""
    description: str | None = None
    if get_origin(annotation) is Annotated:
        base, *extras = get_args(annotation)
        description = next((e for e in extras if isinstance(e, str)), None)
        annotation = base
    optional = False
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        args = [a for a in get_args(annotation) if a is not type(None)]
        optional = len(args) != len(get_args(annotation))
        if len(args) != 1:
            raise TypeError(f"unsupported union parameter type: {annotation!r}")
        annotation = args[0]
        if get_origin(annotation) is Annotated:
            base, *extras = get_args(annotation)
            description = description or next((e for e in extras if isinstance(e, str)), None)
            annotation = base
    return annotation, description, optional


def params_from_signature(func: Any) -> tuple[ParamSpec, ...]:
    """Read the parameters after ``self`` and ``ctx`` into ParamSpecs."""
    hints = typing.get_type_hints(func, include_extras=True)
    signature = inspect.signature(func)
    names = list(signature.parameters)[2:]
    specs: list[ParamSpec] = []
    for name in names:
        param = signature.parameters[name]
        if name not in hints:
            raise TypeError(f"{func.__qualname__}: parameter {name!r} needs a type annotation")
        base, description, optional = _unwrap(hints[name])
        choices: tuple[str, ...] = ()
        if get_origin(base) is Literal:
            choices = tuple(str(c) for c in get_args(base))
            kind = ParamKind.STRING
        elif base in _KINDS:
            kind = _KINDS[base]
        else:
            raise TypeError(f"{func.__qualname__}: unsupported parameter type {base!r}")
        has_default = param.default is not inspect.Parameter.empty
        specs.append(
            ParamSpec(
                name=name,
                kind=kind,
                description=description or "",
                required=not (optional or has_default),
                choices=choices,
                default=param.default if has_default else None,
            )
        )
    seen_optional = False
    for spec in specs:
        if spec.required and seen_optional:
            raise TypeError(f"{func.__qualname__}: required {spec.name!r} follows an optional one")
        seen_optional = seen_optional or not spec.required
    return tuple(specs)
