"""Buttons, selects and modals, driven as a user clicking in the client."""

from __future__ import annotations

from sandbox.discord import FakeDiscord
from tests.sandbox.discord.steward_testbot import StewardTestBot, World


async def test_button_updates_the_message_in_place(
    bot: StewardTestBot, fake_discord: FakeDiscord, world: World
) -> None:
    panel = await fake_discord.invoke_slash(world.alice, world.guild, "panel")
    assert panel.message is not None and not panel.ephemeral
    assert {"ok", "pick", "form"} <= set(panel.message.custom_ids())
    clicked = await fake_discord.click(world.bob, panel.message, "ok")
    assert clicked.callback_type == 7 and clicked.content == "clicked!"
    assert fake_discord.messages_in(world.general)[-1].components == []


async def test_select_answers_privately(
    bot: StewardTestBot, fake_discord: FakeDiscord, world: World
) -> None:
    panel = await fake_discord.invoke_slash(world.alice, world.guild, "panel")
    assert panel.message is not None
    picked = await fake_discord.select(world.bob, panel.message, "pick", ["b"])
    assert picked.ephemeral and picked.content == "picked ['b']"


async def test_modal_is_opened_and_submitted(
    bot: StewardTestBot, fake_discord: FakeDiscord, world: World
) -> None:
    panel = await fake_discord.invoke_slash(world.alice, world.guild, "panel")
    assert panel.message is not None
    opened = await fake_discord.click(world.alice, panel.message, "form")
    assert opened.modal is not None and opened.modal["title"] == "Feedback"
    submitted = await fake_discord.submit_modal(world.alice, opened, {"fb:text": "great bot"})
    assert submitted.ephemeral and submitted.content == "thanks: great bot"
