"""Building a community on a fake, with people and channels, and Steward connected to it."""

from __future__ import annotations

import contextlib
import html
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.app import App
from bot.config import Config
from bot.core.clock import FakeClock
from bot.core.feature import Feature
from bot.core.members import Level
from bot.core.registry import Registry
from sandbox.scenario._community import (
    CHANNELS,
    DISCORD_MANAGE_GUILD,
    PEOPLE,
    Community,
    Person,
    Posted,
)
from sandbox.scenario._discord import DiscordCommunity
from sandbox.scenario._slack import SlackCommunity

KEPT_ON_RESTART = ("feeds_allow", "feeds_min_interval", "http_host", "http_port", "public_url")
"""Process settings a restarted Steward keeps (the platform's are set afresh)."""


def _seed_discord(fake: Any) -> tuple[Any, dict[str, Person], dict[str, Any]]:
    guild = fake.add_guild("Steward Sandbox", owner=fake.owner)
    admins = fake.add_role(guild, "Admins", DISCORD_MANAGE_GUILD, position=1)
    for name in CHANNELS[1:]:
        fake.add_channel(guild, name)
    people: dict[str, Person] = {}
    for name, level in PEOPLE:
        if level is Level.OWNER:
            user = fake.owner
        else:
            user = fake.add_user(name)
            fake.add_member(guild, user, roles=[admins] if level is Level.ADMIN else [])
        people[name] = Person(name, level, user.id, user)
    settings = {
        "discord_token": fake.token,
        "discord_api_base": fake.api_base,
        "discord_gateway_url": fake.gateway_url,
    }
    return guild, people, settings


def _seed_slack(fake: Any) -> tuple[dict[str, Any], dict[str, Person], dict[str, Any]]:
    people: dict[str, Person] = {}
    for name, level in PEOPLE:
        user = fake.add_user(name, is_owner=level is Level.OWNER, is_admin=level >= Level.ADMIN)
        people[name] = Person(name, level, user.id, user)
    channels = {"general": fake.general()}
    for name in CHANNELS[1:]:
        channels[name] = fake.add_channel(name, members=[p.account for p in people.values()])
    fake.use_socket_mode()
    settings = {
        "slack_bot_token": fake.bot_token,
        "slack_app_token": fake.app_token,
        "slack_api_base": fake.api_url,
    }
    return channels, people, settings


def _manifest_scopes(features: Sequence[Feature]) -> list[str]:
    """The bot scopes of the manifest `steward slack-manifest` prints for these features."""
    from bot.adapters.slack.manifest import bot_scopes

    return bot_scopes(Registry(features))


async def _start(
    database_url: str, features: Sequence[Feature], start: datetime | None = None, **settings: Any
) -> App:
    app = App(
        Config(_env_file=None, database_url=database_url, **settings),
        clock=FakeClock(start),
        features=features,
        discord_options={"guild_ready_timeout": 0.05},
    )
    await app.start(background=False)
    return app


def _watch_discord_client(app: App, fake: Any) -> None:
    """Let the fake see how far Steward's discord.py has read, so settling sends nothing."""

    def sequence() -> int | None:
        ws = app.discord.bot.ws
        return None if ws is None else ws.sequence

    fake.client_sequence = sequence


def _discord(app: App, fake: Any, guild: Any, people: dict[str, Person]) -> DiscordCommunity:
    assert isinstance(app.clock, FakeClock)
    _watch_discord_client(app, fake)
    community = DiscordCommunity(app, app.clock, fake, guild)
    community.people.update(people)
    return community


async def _slack(
    app: App, fake: Any, channels: dict[str, Any], people: dict[str, Person]
) -> SlackCommunity:
    assert isinstance(app.clock, FakeClock)
    community = SlackCommunity(app, app.clock, fake)
    community.channels.update(channels)
    community.people.update(people)
    await fake.wait_for(lambda: fake.socket.connected)
    return community


@contextlib.asynccontextmanager
async def open_discord(
    database_url: str,
    features: Sequence[Feature],
    *,
    fake: Any = None,
    config: Mapping[str, Any] | None = None,
) -> AsyncIterator[DiscordCommunity]:
    """A Discord server with channels and people, and Steward connected to it."""
    from sandbox.discord import FakeDiscord

    async with contextlib.AsyncExitStack() as stack:
        if fake is None:
            fake = await stack.enter_async_context(FakeDiscord())
        guild, people, settings = _seed_discord(fake)
        app = await _start(database_url, features, **settings, **(config or {}))
        stack.push_async_callback(app.stop)
        community = _discord(app, fake, guild, people)
        await community.settle()
        yield community


@contextlib.asynccontextmanager
async def open_slack(
    database_url: str,
    features: Sequence[Feature],
    *,
    fake: Any = None,
    config: Mapping[str, Any] | None = None,
) -> AsyncIterator[SlackCommunity]:
    """A Slack workspace with channels and people, and Steward connected over Socket Mode."""
    from sandbox.slack import FakeSlack

    async with contextlib.AsyncExitStack() as stack:
        if fake is None:
            fake = await stack.enter_async_context(FakeSlack())
        channels, people, settings = _seed_slack(fake)
        fake.grant_bot_scopes(_manifest_scopes(features))
        app = await _start(database_url, features, **settings, **(config or {}))
        stack.push_async_callback(app.stop)
        community = await _slack(app, fake, channels, people)
        await community.settle()
        yield community


@contextlib.asynccontextmanager
async def open_both(
    database_url: str,
    features: Sequence[Feature],
    *,
    validate: bool = True,
    roles: Sequence[str] = (),
    snowflakes: Any = None,
    prepare: Callable[[Any, Any, Any], None] | None = None,
    start: datetime | None = None,
    config: Mapping[str, Any] | None = None,
) -> AsyncIterator[tuple[DiscordCommunity, SlackCommunity]]:
    """One Steward process serving a Discord server and a Slack workspace at once.

    ``validate=False`` runs the fakes without checking traffic against the API descriptions
    (for the sandbox on a machine without ../shared; tests always validate). ``roles`` are made
    on both (a role on Discord, a user group on Slack). The sandbox rebuilds a kept world with
    the rest: the Discord ids (``snowflakes``), ``prepare(discord fake, guild, slack fake)``
    before Steward starts, and the clock's ``start``. ``config`` adds process settings.
    """
    from sandbox.discord import FakeDiscord
    from sandbox.slack import FakeSlack

    async with contextlib.AsyncExitStack() as stack:
        discord_fake = await stack.enter_async_context(
            FakeDiscord(validate=validate, snowflake=snowflakes)
        )
        slack_fake = await stack.enter_async_context(FakeSlack(validate=validate))
        guild, discord_people, discord_settings = _seed_discord(discord_fake)
        channels, slack_people, slack_settings = _seed_slack(slack_fake)
        discord_roles = {
            name: discord_fake.add_role(guild, name, mentionable=True, position=1) for name in roles
        }
        slack_groups = {name: slack_fake.add_usergroup(name, []) for name in roles}
        if prepare is not None:
            prepare(discord_fake, guild, slack_fake)
        slack_fake.grant_bot_scopes(_manifest_scopes(features))
        app = await _start(
            database_url, features, start, **discord_settings, **slack_settings, **(config or {})
        )
        stack.push_async_callback(app.stop)
        on_discord = _discord(app, discord_fake, guild, discord_people)
        on_discord.roles.update(discord_roles)
        on_slack = await _slack(app, slack_fake, channels, slack_people)
        on_slack.groups.update(slack_groups)
        await on_discord.settle()
        await on_slack.settle()
        yield on_discord, on_slack


def open_community(
    platform: str,
    database_url: str,
    features: Sequence[Feature],
    *,
    fake: Any = None,
    config: Mapping[str, Any] | None = None,
) -> contextlib.AbstractAsyncContextManager[Community]:
    """A community on ``platform`` ("discord" or "slack") with Steward running in it.

    ``config`` adds process settings (``feeds_allow``, ``http_port``, ...) to the platform's.
    """
    if platform == "discord":
        return open_discord(database_url, features, fake=fake, config=config)
    if platform == "slack":
        return open_slack(database_url, features, fake=fake, config=config)
    raise ValueError(f"unknown platform {platform!r}")


async def replies(community: Community, person: Person, to: Posted, text: str) -> Posted:
    """A person answers a message: a reply on Discord, a message in its thread on Slack."""
    fake: Any = getattr(community, "fake", None)
    if isinstance(community, DiscordCommunity):
        channel = fake.world.channels[to.raw.channel_id]
        message = await fake.user_says(person.account, channel, text, reply_to=to.raw)
        await community.settle()
        return Posted(message.content, person.id, message)
    message = await fake.user_says(
        person.account, to.raw.channel, text, thread_ts=to.raw.thread_ts or to.raw.ts
    )
    await community.settle()
    return Posted(html.unescape(message.text), person.id, message)


async def stop_steward(community: Community) -> None:
    """Steward goes down (the platform keeps running and people keep talking)."""
    await community.app.stop()


async def start_steward(community: Community, features: Sequence[Feature]) -> App:
    """A new Steward process on the same database, fake and clock; the caller stops it."""
    fake: Any = getattr(community, "fake", None)
    if isinstance(community, DiscordCommunity):
        settings: dict[str, Any] = {
            "discord_token": fake.token,
            "discord_api_base": fake.api_base,
            "discord_gateway_url": fake.gateway_url,
        }
    else:
        settings = {
            "slack_bot_token": fake.bot_token,
            "slack_app_token": fake.app_token,
            "slack_api_base": fake.api_url,
        }
    old = community.app.config
    kept = {k: getattr(old, k) for k in KEPT_ON_RESTART}
    app = App(
        Config(_env_file=None, database_url=old.database_url, **settings, **kept),
        clock=community.clock,
        features=features,
        discord_options={"guild_ready_timeout": 0.05},
    )
    await app.start(background=False)
    community.app = app
    if isinstance(community, DiscordCommunity):
        _watch_discord_client(app, fake)
    if isinstance(community, SlackCommunity):
        await fake.wait_for(lambda: fake.socket.connected)
    await community.settle()
    return app
