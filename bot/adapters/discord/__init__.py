"""The Discord adapter: the only place (with the Slack adapter) that knows its platform."""

from bot.adapters.discord.client import DiscordAdapter
from bot.adapters.discord.intents import intents_for
from bot.adapters.discord.port import DiscordPort

__all__ = ["DiscordAdapter", "DiscordPort", "intents_for"]
