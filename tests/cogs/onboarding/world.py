"""Setting the world up the way a workspace owner would, where the two platforms differ."""

from __future__ import annotations

from typing import Any

from bot.core import Level
from sandbox.scenario import Community, DiscordCommunity, Person, Posted, Seen, SlackCommunity


async def standard_setup(community: Community, *, greeters: list[str] | None = None) -> str:
    """Welcome, intro and greeters channels, a greeter role, rules; returns the role's mention."""
    role = greeter_role(community, [community.people[n] for n in (greeters or ["alice"])])
    await community.configure(
        "onboarding",
        community_name="Sandbox",
        welcome_channel=community.channel_mention("welcome"),
        intro_channel=community.channel_mention("intros"),
        greeters_channel=community.channel_mention("mods"),
        greeter_role=role,
    )
    ada = community.people["ada"]
    saved = await community.slash(ada, "onboarding rules set", text="Be kind. No spam.")
    assert saved.ephemeral and "Rules: Be kind. No spam." in saved.text
    return role


def greeter_role(community: Community, members: list[Person]) -> str:
    """A Discord role / Slack user group held by ``members``; its mention as a manager types it."""
    if isinstance(community, DiscordCommunity):
        fake, guild = community.fake, community.guild
        role = fake.add_role(guild, "Greeters", position=1, mentionable=True)
        for person in members:
            guild.members[person.id].roles.append(role.id)
        return f"<@&{role.id}>"
    assert isinstance(community, SlackCommunity)
    group = community.fake.add_usergroup("greeters", [p.account for p in members])
    return f"<!subteam^{group.id}>"


def grantable(community: Community, name: str) -> tuple[str | None, str | None]:
    """What an interest or the rules can open: (role, channel) mentions, per platform."""
    if isinstance(community, DiscordCommunity):
        role = community.fake.add_role(community.guild, name, position=1)
        return f"<@&{role.id}>", None
    assert isinstance(community, SlackCommunity)
    channel = community.fake.add_channel(name)
    community.channels[name] = channel
    return None, community.channel_mention(name)


def out_of_reach(community: Community, name: str) -> tuple[str, str]:
    """Something Steward may not grant: a role above its own, a channel it isn't in.

    Returns (setting key, mention)."""
    if isinstance(community, DiscordCommunity):
        role = community.fake.add_role(community.guild, name)  # the new highest role
        return "rules_role", f"<@&{role.id}>"
    assert isinstance(community, SlackCommunity)
    channel = community.fake.add_channel(name, bot_member=False)
    community.channels[name] = channel
    return "rules_channels", community.channel_mention(name)


def holds(community: Community, person: Person, grant: tuple[str | None, str | None]) -> bool:
    """Whether a person has the role or is in the channel of ``grant``."""
    role, channel = grant
    if isinstance(community, DiscordCommunity):
        assert role is not None
        role_id = role.strip("<@&>")
        return role_id in community.guild.members[person.id].roles
    assert isinstance(community, SlackCommunity) and channel is not None
    channel_id = channel[2:].split("|")[0]
    return person.id in community.fake.world.channels[channel_id].members


async def leaves(community: Community, person: Person) -> None:
    """A member leaves (Discord) or is deactivated (Slack)."""
    if isinstance(community, DiscordCommunity):
        await community.fake.member_leaves(community.guild, person.account)
    else:
        await _slack_user_change(community, person, deleted=True)
    await community.settle()


async def comes_back(community: Community, person: Person) -> None:
    """A member joins again (Discord) or is reactivated (Slack)."""
    if isinstance(community, DiscordCommunity):
        await community.fake.member_joins(community.guild, person.account)
    else:
        await _slack_user_change(community, person, deleted=False)
    await community.settle()


async def _slack_user_change(community: Community, person: Person, *, deleted: bool) -> None:
    assert isinstance(community, SlackCommunity)
    fake = community.fake
    person.account.deleted = deleted
    event = {
        "type": "user_change",
        "user": person.account.to_api(),
        "event_ts": fake.world.next_ts(),
    }
    await fake.deliver_event(person.account.team_id, event)


async def storm(community: Community, names: list[str], *, settle: bool = True) -> list[Person]:
    """Many people join at once; Steward is only waited for at the end (unless ``settle`` is
    off: then not at all)."""
    people: list[Person] = []
    for name in names:
        if isinstance(community, DiscordCommunity):
            user = community.fake.add_user(name)
            await community.fake.member_joins(community.guild, user)
        else:
            assert isinstance(community, SlackCommunity)
            user = await community.fake.member_joins(name)
        person = Person(name, Level.MEMBER, user.id, user)
        community.people[name] = person
        people.append(person)
    if settle:
        await community.settle()
    return people


def chart_sent(community: Community, seen: Any) -> bool:
    """Whether a PNG chart came with what the manager saw."""
    if isinstance(community, DiscordCommunity):
        return any(
            a.get("filename", "").endswith(".png")
            for m in seen.messages
            for a in getattr(m, "attachments", [])
        )
    assert isinstance(community, SlackCommunity)
    return bool(community.fake.calls_to("files.completeUploadExternal"))


def option_values(seen: Seen | Posted) -> list[str]:
    """The option values of the selects in what a person was shown (or a message they read)."""
    values: list[str] = []

    def walk(items: list[Any]) -> None:
        for item in items:
            values.extend(str(o["value"]) for o in item.get("options", []) if "value" in o)
            walk(item.get("components", []) or item.get("elements", []))

    for message in seen.messages if isinstance(seen, Seen) else [seen.raw]:
        data = getattr(message, "data", None)
        blocks = getattr(message, "blocks", None) or (data or {}).get("blocks")
        walk(list(getattr(message, "components", None) or blocks or []))
    return values
