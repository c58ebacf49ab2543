"""What a Discord adapter test gets: the fake, the running App, and the people in the guild."""

from __future__ import annotations

from dataclasses import dataclass

from bot.app import App
from sandbox.discord import FakeDiscord, Guild, Role, User


@dataclass
class World:
    fake: FakeDiscord
    app: App
    guild: Guild
    admin: User
    alice: User
    gardeners: Role  # a mentionable role alice holds
