"""One driver over both fakes: a feature story is written once and told on Discord and on Slack.

The driver only acts as people act in the client (join, say, react, run a slash command, press a
button, fill a form) and reads back what a person would see. Steward runs for real: the App with
its database, the real discord.py or slack-bolt, talking to the fake over loopback.

    async with open_community("slack", database_url=url, features=[...]) as community:
        alice = await community.member_joins("alice")
        seen = await community.slash(community.people["ada"], "steward features")
        assert seen.ephemeral and "onboarding" in seen.text
"""

from sandbox.scenario._community import CHANNELS, PEOPLE, Community, Person, Posted, Seen
from sandbox.scenario._discord import DiscordCommunity
from sandbox.scenario._open import (
    open_both,
    open_community,
    open_discord,
    open_slack,
    replies,
    start_steward,
    stop_steward,
)
from sandbox.scenario._slack import SlackCommunity

__all__ = [
    "CHANNELS",
    "PEOPLE",
    "Community",
    "DiscordCommunity",
    "Person",
    "Posted",
    "Seen",
    "SlackCommunity",
    "open_both",
    "open_community",
    "open_discord",
    "open_slack",
    "replies",
    "start_steward",
    "stop_steward",
]
