"""Making someone a moderator the way a workspace owner would, where the two platforms differ."""

from __future__ import annotations

from sandbox.discord.permissions import Permission
from sandbox.scenario import Community, DiscordCommunity, Person, SlackCommunity

MOD_PERMISSIONS = Permission.MODERATE_MEMBERS | Permission.KICK_MEMBERS | Permission.BAN_MEMBERS


async def make_moderator(community: Community, *people: Person) -> None:
    """Discord: a Moderators role with moderation permissions; Slack: the moderator user group."""
    if isinstance(community, DiscordCommunity):
        role = community.fake.add_role(
            community.guild, "Moderators", int(MOD_PERMISSIONS), position=1
        )
        for person in people:
            community.guild.members[person.id].roles.append(role.id)
        return
    assert isinstance(community, SlackCommunity)
    group = community.fake.add_usergroup("moderators", [p.account for p in people])
    done = await community.slash(
        community.people["ada"],
        "steward settings set",
        feature="steward",
        key="moderator_role",
        value=f"<!subteam^{group.id}>",
    )
    assert "is now" in done.text, done.text
