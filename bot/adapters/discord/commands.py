"""The slash-command tree, generated from the registry: one group per feature."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Literal, Optional, Union

import discord
from discord import app_commands

from bot.core.commands import CommandSpec, ParamKind, ParamSpec
from bot.core.members import Level
from bot.core.registry import Registry

CommandHandler = Callable[[CommandSpec, discord.Interaction[Any], dict[str, Any]], Awaitable[None]]


class _Destination(app_commands.Transformer[Any]):
    """A channel Steward posts in, or a forum (where each post opens a thread of its own).

    Not media channels (16): Discord's API description predates them, and their posts need
    a file."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        kinds = discord.ChannelType
        return [
            kinds.text,
            kinds.news,
            kinds.news_thread,
            kinds.public_thread,
            kinds.private_thread,
            kinds.forum,
        ]

    async def transform(self, interaction: discord.Interaction[Any], value: Any, /) -> Any:
        return value  # an AppCommandChannel or AppCommandThread: its id is what Steward needs


_ANNOTATIONS: dict[ParamKind, Any] = {
    ParamKind.STRING: str,
    ParamKind.INTEGER: int,
    ParamKind.NUMBER: float,
    ParamKind.BOOLEAN: bool,
    ParamKind.MEMBER: discord.Member,
    # Channels Steward can post in; Discord's API description predates media channels (16),
    # which a bare AppCommandChannel would offer.
    ParamKind.CHANNEL: Union[discord.TextChannel, discord.Thread],  # noqa: UP007
    ParamKind.DESTINATION: app_commands.Transform[Any, _Destination],
    ParamKind.ROLE: discord.Role,
    ParamKind.DURATION: str,
    ParamKind.FILE: discord.Attachment,
}


def _annotation(param: ParamSpec) -> Any:
    base = _ANNOTATIONS[param.kind]
    if param.choices:
        base = Literal[param.choices]
    return base if param.required else Optional[base]  # noqa: UP045


def permission_hint(level: Level) -> discord.Permissions | None:
    """Discord's ``default_member_permissions``: a UI hint only; Steward checks every call."""
    if level >= Level.ADMIN:
        return discord.Permissions(manage_guild=True)
    if level >= Level.MOD:
        return discord.Permissions(moderate_members=True)
    return None


def _callback(
    spec: CommandSpec, handler: CommandHandler
) -> Callable[..., Coroutine[Any, Any, None]]:
    async def callback(interaction: discord.Interaction[Any], **values: Any) -> None:
        await handler(spec, interaction, values)

    parameters = [
        inspect.Parameter(
            "interaction",
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            annotation=discord.Interaction,
        )
    ]
    for param in spec.params:
        parameters.append(
            inspect.Parameter(
                param.name,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                annotation=_annotation(param),
                default=inspect.Parameter.empty if param.required else None,
            )
        )
    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    callback.__name__ = callback.__qualname__ = spec.method
    callback.__doc__ = spec.description
    described = app_commands.describe(**{p.name: p.description for p in spec.params})
    return described(callback)


def build_groups(registry: Registry, handler: CommandHandler) -> list[app_commands.Group]:
    """One top-level group per feature, with a subgroup for two-word commands."""
    groups: list[app_commands.Group] = []
    for feature in registry.features:
        specs = registry.commands(feature.name)
        if not specs:
            continue
        group = app_commands.Group(
            name=feature.name,
            description=(feature.description or feature.name)[:100],
            guild_only=True,
            default_permissions=permission_hint(min(s.requires for s in specs)),
        )
        subgroups: dict[str, app_commands.Group] = {}
        for spec in specs:
            parent = group
            if len(spec.words) == 2:
                first = spec.words[0]
                if first not in subgroups:
                    subgroups[first] = app_commands.Group(
                        name=first, description=f"{feature.name} {first}"[:100]
                    )
                    group.add_command(subgroups[first])
                parent = subgroups[first]
            parent.add_command(
                app_commands.Command(
                    name=spec.words[-1],
                    description=spec.description[:100],
                    callback=_callback(spec, handler),
                )
            )
        groups.append(group)
    return groups


MessageActionHandler = Callable[
    [str, str, discord.Interaction[Any], discord.Message], Awaitable[None]
]


def build_message_menus(
    registry: Registry, handler: MessageActionHandler
) -> list[app_commands.ContextMenu]:
    """One message context-menu command per ``@message_action``."""
    menus: list[app_commands.ContextMenu] = []
    for feature, mark in registry.message_actions():
        assert mark.menu is not None

        def bind(feature: str, action: str) -> Callable[..., Coroutine[Any, Any, None]]:
            async def run(interaction: discord.Interaction[Any], message: discord.Message) -> None:
                await handler(feature, action, interaction, message)

            return run

        menu = app_commands.ContextMenu(name=mark.menu[:32], callback=bind(feature, mark.action))
        menu.guild_only = True
        menus.append(menu)
    return menus
