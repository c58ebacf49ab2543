"""Arranging roles as a server admin does in Server Settings → Roles, with the events Discord
sends: GUILD_ROLE_UPDATE for every role whose position or permissions changed, and
GUILD_MEMBER_UPDATE when a member's roles change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from . import payloads
from .state import Guild, Role, User

if TYPE_CHECKING:
    from .state import World


class Hierarchy:
    """FakeDiscord's test API for the role list."""

    world: World

    def dispatch(
        self, event: str, data: Any, *, guild_id: str | None = None, dm: bool = False
    ) -> None:
        """Provided by the server."""
        raise NotImplementedError

    def arrange_roles(self, guild: Guild, bottom_to_top: Sequence[Role]) -> None:
        """Put these roles at positions 1, 2, ... (the rest keep their order above them)."""
        listed = {r.id for r in bottom_to_top}
        rest = sorted(
            (r for r in guild.roles.values() if r.id != guild.id and r.id not in listed),
            key=lambda r: (r.position, int(r.id)),
        )
        for position, role in enumerate([*bottom_to_top, *rest], start=1):
            if role.position != position:
                role.position = position
                self._role_update(guild, role)

    def set_permissions(self, guild: Guild, role: Role, permissions: int) -> None:
        """Change a role's permissions."""
        if role.permissions != permissions:
            role.permissions = permissions
            self._role_update(guild, role)

    def set_member_roles(self, guild: Guild, user: User, roles: Sequence[Role]) -> None:
        """Give a member exactly these roles."""
        member = guild.members[user.id]
        wanted = [r.id for r in roles]
        if sorted(member.roles) != sorted(wanted):
            member.roles = wanted
            data = {**payloads.member(self.world, member), "guild_id": guild.id}
            self.dispatch("GUILD_MEMBER_UPDATE", data)

    def _role_update(self, guild: Guild, role: Role) -> None:
        self.dispatch("GUILD_ROLE_UPDATE", {"guild_id": guild.id, "role": payloads.role(role)})
