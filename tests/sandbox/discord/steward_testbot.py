"""A small real discord.py bot used to drive the fake Discord in these tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from sandbox.discord import Channel, Guild, Role, User


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    """A one-field modal."""

    text: discord.ui.TextInput[Any] = discord.ui.TextInput(label="Text", custom_id="fb:text")

    def __init__(self) -> None:
        super().__init__(custom_id="fb")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        """Thank the user privately."""
        await interaction.response.send_message(f"thanks: {self.text.value}", ephemeral=True)


class Panel(discord.ui.View):
    """A button, a select and a button that opens a modal."""

    @discord.ui.button(label="OK", custom_id="ok")
    async def ok(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        """Edit the panel in place."""
        await interaction.response.edit_message(content="clicked!", view=None)

    @discord.ui.select(
        custom_id="pick",
        options=[
            discord.SelectOption(label="A", value="a"),
            discord.SelectOption(label="B", value="b"),
        ],
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select[Any]) -> None:
        """Answer with the choice."""
        await interaction.response.send_message(f"picked {select.values}", ephemeral=True)

    @discord.ui.button(label="Feedback", custom_id="form")
    async def form(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        """Open the modal."""
        await interaction.response.send_modal(FeedbackModal())


class Mod(app_commands.Group):
    """Moderation commands."""

    @app_commands.command(description="Give a member a role")
    async def promote(
        self, interaction: discord.Interaction, member: discord.Member, role: discord.Role
    ) -> None:
        """Add the role and say how it went."""
        try:
            await member.add_roles(role, reason="promote")
        except discord.Forbidden as exc:
            await interaction.response.send_message(f"forbidden {exc.code}", ephemeral=True)
            return
        await interaction.response.send_message(f"promoted {member.display_name}", ephemeral=True)


class StewardTestBot(commands.Bot):
    """commands.Bot with app commands synced to one guild, recording what it sees."""

    def __init__(self, guild_id: int, intents: discord.Intents, **kw: Any) -> None:
        super().__init__(
            command_prefix="!",
            intents=intents,
            guild_ready_timeout=0.05,
            allowed_mentions=discord.AllowedMentions.all(),
            **kw,
        )
        self.guild_id = guild_id
        self.seen: list[discord.Message] = []
        self.joined: list[discord.Member] = []
        self.errors: list[BaseException] = []
        self.resumed_count = 0

    async def setup_hook(self) -> None:
        """Register and sync the commands to the test guild."""
        guild = discord.Object(self.guild_id)
        tree = self.tree

        @tree.command(description="Say hello to a member", guild=guild)
        async def hello(interaction: discord.Interaction, member: discord.Member) -> None:
            await interaction.response.send_message(
                f"hello {member.display_name} ({len(member.roles)} roles)", ephemeral=True
            )

        @tree.command(description="Slow work", guild=guild)
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await interaction.edit_original_response(content="working")
            await interaction.followup.send("done", ephemeral=True)

        @tree.command(description="Show the panel", guild=guild)
        async def panel(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("panel", view=Panel())

        @tree.error
        async def on_error(interaction: discord.Interaction, error: Exception) -> None:
            self.errors.append(error)

        tree.add_command(Mod(name="mod"), guild=guild)
        await tree.sync(guild=guild)

    async def on_message(self, message: discord.Message) -> None:
        """Record messages and answer a few words."""
        if message.author.id == self.user.id if self.user else False:
            return
        self.seen.append(message)
        if message.content == "!dm":
            try:
                await message.author.send("psst")
            except discord.Forbidden as exc:
                await message.channel.send(f"cannot dm: {exc.code}")
        elif message.content.startswith("!quiet"):
            await message.channel.send(
                f"hi {message.author.mention}", allowed_mentions=discord.AllowedMentions.none()
            )
        elif message.content.startswith("!loud"):
            await message.channel.send(f"hi {message.author.mention}")
        elif message.content == "!burst":
            for i in range(3):
                await message.channel.send(f"burst {i}")

    async def on_member_join(self, member: discord.Member) -> None:
        """Record joins."""
        self.joined.append(member)

    async def on_resumed(self) -> None:
        """Count RESUMEs."""
        self.resumed_count += 1


def default_intents() -> discord.Intents:
    """Return the intents Steward asks for: defaults plus members and message content."""
    intents = discord.Intents.default()
    intents.members = True
    intents.message_content = True
    return intents


@dataclass
class World:
    """A small community: a guild, #general, a mods role, alice and bob."""

    guild: Guild
    general: Channel
    alice: User
    bob: User
    member_role: Role
