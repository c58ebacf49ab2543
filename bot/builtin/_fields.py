"""Reading and writing settings fields from text: the parsing behind ``/steward settings``."""

from __future__ import annotations

import types
from datetime import time, timedelta
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from bot.core.errors import UserError
from bot.core.ids import ChannelRef, CommunityRef, RoleRef, UserRef
from bot.core.message import mention
from bot.core.parsing import (
    PARSERS,
    format_duration,
    parse_value,
)
from bot.core.settings import FeatureSettings

CLEAR_WORDS = {"none", "-", "off", "clear"}
HIDDEN = {"enabled"}


def settable(cls: type[FeatureSettings]) -> list[str]:
    """The keys a manager may change with ``/steward settings``."""
    return [name for name in cls.model_fields if name not in HIDDEN]


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _unwrap(args[0])[0], len(args) != len(get_args(annotation))
    if origin is Annotated:
        return get_args(annotation)[0], False
    return annotation, False


def _limits(field: FieldInfo) -> dict[str, Any]:
    """The field's bounds (ge, le, min_length, max_length), wherever pydantic keeps them."""
    metadata = list(field.metadata)
    for arg in get_args(field.annotation):
        if get_origin(arg) is Annotated:
            metadata += [m for a in get_args(arg)[1:] for m in getattr(a, "metadata", [a])]
    names = ("ge", "le", "min_length", "max_length")
    return {n: getattr(m, n) for m in metadata for n in names if getattr(m, n, None) is not None}


def _range(field: FieldInfo) -> str:
    """The allowed range in words, or '' when the field has none."""
    limits = _limits(field)
    if "max_length" in limits:
        return f"at most {limits['max_length']} characters"
    if "ge" in limits and "le" in limits:
        return f"from {show_value(limits['ge'])} to {show_value(limits['le'])}"
    return ""


def expected_form(annotation: Any) -> str:
    """How to type a value of this type, in words."""
    base, optional = _unwrap(annotation)
    suffix = " (or `none` to clear)" if optional else ""
    origin = get_origin(base)
    if origin is Literal:
        return "one of " + ", ".join(f"`{c}`" for c in get_args(base)) + suffix
    if isinstance(base, type) and issubclass(base, Enum):
        return "one of " + ", ".join(f"`{m.value}`" for m in base) + suffix
    if origin in (list, tuple, frozenset, set):
        inner = get_args(base)[0]
        return f"a comma-separated list of {expected_form(inner)}{suffix}"
    words = {
        bool: "`on` or `off`",
        int: "a whole number",
        float: "a number",
        str: "text",
        timedelta: "a duration such as `30m`, `2h` or `3d`",
        time: "a time of day such as `22:00`",
        ChannelRef: "a channel, like #general",
        RoleRef: "a role, like @moderators",
        UserRef: "a member, like @alice",
    }
    return words.get(base, "a value") + suffix


def _parse_one(base: Any, text: str, community: CommunityRef) -> Any:
    origin = get_origin(base)
    if origin is Literal or (isinstance(base, type) and issubclass(base, Enum)):
        return text.strip()
    if origin in (list, tuple, frozenset, set):
        inner = get_args(base)[0]
        items = [part for part in (p.strip() for p in text.split(",")) if part]
        return [_parse_one(inner, item, community) for item in items]
    if base not in PARSERS:
        raise UserError("That setting can't be changed from a command yet.")
    return parse_value(base, text, community)


def parse_setting(
    cls: type[FeatureSettings],
    current: FeatureSettings,
    key: str,
    text: str,
    community: CommunityRef,
) -> FeatureSettings:
    """A copy of ``current`` with ``key`` set from ``text``; a friendly UserError if wrong."""
    field = cls.model_fields[key]
    base, optional = _unwrap(field.annotation)
    form = expected_form(field.annotation)
    bounds = _range(field)
    if bounds:
        form = f"{form}, {bounds}"
    if optional and text.strip().lower() in CLEAR_WORDS:
        value: Any = None
    else:
        try:
            value = _parse_one(base, text, community)
        except UserError as exc:
            raise UserError(f"`{key}` expects {form}. {exc.message}") from None
    data = current.model_dump()
    data[key] = value
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise UserError(_refusal(key, form, text, exc)) from None


def _refusal(key: str, form: str, text: str, exc: ValidationError) -> str:
    """Why the model refused the value, in Steward's words rather than pydantic's."""
    typed = text.strip()
    shown = typed if len(typed) <= 40 else typed[:39] + "…"
    errors = exc.errors()
    error: dict[str, Any] = dict(errors[0]) if errors else {}
    cause = (error.get("ctx") or {}).get("error")
    if error.get("type") == "value_error" and cause is not None:
        return f"`{shown}` is {cause}."
    if error.get("type") in ("string_too_long", "string_too_short"):
        return f"`{key}` expects {form}; that was {len(typed)}."
    if error.get("type") == "literal_error":
        return f"`{key}` expects {form}; `{shown}` isn't one."
    return f"`{key}` expects {form}; `{shown}` is out of range."


def show_value(value: Any) -> str:
    """A value as people read it: channels as links, durations as 2h, lists joined."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, ChannelRef | RoleRef | UserRef):
        return mention(value)
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, list | tuple | frozenset | set):
        return ", ".join(show_value(v) for v in value) or "none"
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    text = str(value)
    return text if len(text) <= 200 else text[:199] + "…"
