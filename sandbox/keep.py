"""``steward sandbox --keep``: what one sandbox leaves for the next, so it goes on coherently.

Steward's own data is in the sandbox database. Beside it, ``<name>.world.json`` keeps what the
fakes knew: the time, who is in each community with their id, roles and (on Slack) channels,
and where the fake Slack's counters stand. The seeded server and workspace get the same ids every
time (see ``StableSnowflakes``); people who joined come back with theirs, and newcomers get ids
never used before, so nobody inherits another person's record. Messages are not kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.config import ConfigError
from bot.core.members import Level
from sandbox.scenario import Community, DiscordCommunity, Person, SlackCommunity

VERSION = 1


def world_file(database: Path) -> Path:
    """Where the world of the sandbox database ``database`` is kept."""
    return database.with_name(database.stem + ".world.json")


@dataclass
class Kept:
    """The world a kept sandbox goes on from (empty: a fresh one)."""

    now: datetime | None = None
    people: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    slack_counters: dict[str, int] | None = None

    @classmethod
    def read(cls, path: Path | None) -> Kept:
        """The world kept in ``path``; a fresh one when there is none."""
        if path is None or not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != VERSION:
                raise ValueError("another version")
            return cls(datetime.fromisoformat(data["now"]), data["people"], data["slack"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            raise ConfigError(
                f"cannot read the kept sandbox in {path}; run without --keep to start fresh"
            ) from None

    def names(self) -> list[str]:
        """Everyone kept, seeded people included."""
        return sorted({name for people in self.people.values() for name in people})

    def prepare(self, discord: Any, guild: Any, slack: Any) -> None:
        """Put the kept people back in the fakes, before Steward connects and reads them."""
        for name, info in self.people.get("discord", {}).items():
            user = discord.world.users.get(info["id"]) or discord.world.add_user(
                name, user_id=info["id"]
            )
            member = guild.members.get(user.id) or discord.add_member(guild, user)
            for role in guild.roles.values():
                if role.name in info["roles"] and role.id not in member.roles:
                    member.roles.append(role.id)
        if self.slack_counters:
            slack.world.continue_from(self.slack_counters)
        from sandbox.slack import User

        world = slack.world
        for name, info in self.people.get("slack", {}).items():
            user = world.users.get(info["id"])
            if user is None:
                team = slack.team
                user = User(
                    info["id"], team.id, name, name.title(), email=f"{name}@{team.domain}.example"
                )
                world.users[user.id] = user
            for channel in world.channels.values():
                if channel.name in info["channels"] and user.id not in channel.members:
                    channel.members.append(user.id)
            for group in world.usergroups.values():
                if group.handle in info["roles"] and user.id not in group.users:
                    group.users.append(user.id)

    def rejoin(self, communities: dict[str, Community]) -> None:
        """The kept people, known to the script again by name."""
        for platform, community in communities.items():
            users = community.fake.world.users  # type: ignore[attr-defined]
            for name, info in self.people.get(platform, {}).items():
                if name not in community.people and info["id"] in users:
                    level = Level(int(info.get("level", 0)))
                    community.people[name] = Person(name, level, info["id"], users[info["id"]])


def save(path: Path, communities: dict[str, Community]) -> None:
    """Keep this sandbox's world for the next ``--keep``."""
    people: dict[str, dict[str, dict[str, Any]]] = {}
    slack: dict[str, int] | None = None
    now = None
    for platform, community in communities.items():
        now = community.clock.now()
        people[platform] = {
            name: {"id": p.id, "level": int(p.level), **_memberships(community, p)}
            for name, p in community.people.items()
        }
        if isinstance(community, SlackCommunity):
            slack = community.fake.world.counters()
    data: dict[str, Any] = {"version": VERSION, "now": now.isoformat() if now else None}
    data.update(people=people, slack=slack)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    temporary.replace(path)


def _memberships(community: Community, person: Person) -> dict[str, list[str]]:
    """The sandbox roles a person holds and (on Slack) the channels they are in."""
    if isinstance(community, DiscordCommunity):
        member = community.guild.members.get(person.id)
        held = set(member.roles) if member is not None else set()
        roles = [name for name, role in community.roles.items() if role.id in held]
        return {"roles": roles, "channels": []}
    assert isinstance(community, SlackCommunity)
    roles = [name for name, group in community.groups.items() if person.id in group.users]
    channels = [
        c.name
        for c in community.fake.world.channels.values()
        if not (c.is_im or c.is_mpim) and person.id in c.members
    ]
    return {"roles": roles, "channels": channels}
