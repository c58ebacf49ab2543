"""The Slack adapter: the only place (with the Discord adapter) that knows its platform."""

from bot.adapters.slack.app import SlackAdapter
from bot.adapters.slack.port import SlackPort

__all__ = ["SlackAdapter", "SlackPort"]
