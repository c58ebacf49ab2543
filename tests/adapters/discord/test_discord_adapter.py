"""Steward through the real discord.py against the fake Discord."""

from __future__ import annotations

from tests.adapters.discord.world import World


async def test_settings_round_trip(world: World) -> None:
    fake, guild = world.fake, world.guild
    done = await fake.invoke_slash(
        world.admin, guild, "steward settings set", feature="garden", key="greeting", value="Hi"
    )
    await done.wait()
    assert done.ephemeral and done.text == "garden `greeting` is now Hi."
    shown = await fake.invoke_slash(
        world.admin, guild, "steward settings show", feature="garden", key="greeting"
    )
    await shown.wait()
    assert shown.ephemeral
    [embed] = shown.embeds
    assert embed["title"] == "garden settings"
    assert embed["fields"][0]["name"] == "greeting"
    assert embed["fields"][0]["value"].startswith("Hi\n")


async def test_member_without_permission_is_refused_privately_and_nothing_changes(
    world: World,
) -> None:
    fake, guild = world.fake, world.guild
    refused = await fake.invoke_slash(
        world.alice, guild, "steward settings set", feature="garden", key="greeting", value="x"
    )
    await refused.wait()
    assert refused.ephemeral
    assert refused.text == "Sorry, you need to be an admin to use /steward settings set."
    assert fake.sees(world.admin, guild.channel_named("general")) == []
    shown = await fake.invoke_slash(
        world.admin, guild, "steward settings show", feature="garden", key="greeting"
    )
    await shown.wait()
    assert shown.embeds[0]["fields"][0]["value"].startswith("Welcome to the garden (default)")


async def test_button_select_and_form_reach_the_feature(world: World) -> None:
    fake, guild = world.fake, world.guild
    asked = await fake.invoke_slash(world.alice, guild, "desk ask")
    await asked.wait()
    assert not asked.ephemeral and asked.text == "Do you like it?"
    message = asked.message
    assert message is not None
    pressed = await fake.click(world.admin, message, "steward:desk:yes:1")
    await pressed.wait()
    assert pressed.ephemeral and pressed.text == "You pressed yes (1)"
    picked = await fake.select(world.admin, message, "steward:desk:pick:", ["red", "blue"])
    await picked.wait()
    assert picked.text == "You picked red, blue"
    opened = await fake.invoke_slash(world.alice, guild, "desk feedback")
    await opened.wait()
    assert opened.modal is not None and opened.modal["title"] == "Feedback"
    sent = await fake.submit_modal(world.alice, opened, {"text": "Lovely bot"})
    await sent.wait()
    assert sent.ephemeral and sent.text == "Thanks for: Lovely bot"


async def test_member_option_arrives_as_a_member_with_a_level(world: World) -> None:
    fake, guild = world.fake, world.guild
    shown = await fake.invoke_slash(world.alice, guild, "desk whois", member=world.admin)
    await shown.wait()
    assert shown.text == "ada is an admin"


async def test_newcomer_gets_a_welcome_dm(world: World) -> None:
    fake, guild = world.fake, world.guild
    nina = fake.add_user("nina")
    await fake.member_joins(guild, nina)
    await fake.wait_for(lambda: len(fake.dms_of(nina)) == 2)
    # Garden's greeting and Desk's welcome both arrive; Garden's broken listener is isolated.
    assert sorted(m.content for m in fake.dms_of(nina)) == [
        "Welcome to the garden",
        "Welcome, nina!",
    ]


async def test_closed_dms_do_not_break_the_welcome(world: World) -> None:
    fake, guild = world.fake, world.guild
    shy = fake.add_user("shy", dms_open=False)
    await fake.member_joins(guild, shy)
    await fake.settle()
    await world.app.dispatcher.activity.wait_idle()  # the join waits its turn in the intake
    assert fake.dms_of(shy) == []
    assert world.app.dispatcher.failures == 1  # only Garden's deliberately broken listener


async def test_relayed_text_pings_nobody(world: World) -> None:
    fake, guild = world.fake, world.guild
    general = guild.channel_named("general")
    text = f"@everyone @here <@{world.alice.id}> <@&{guild.id}> hello"
    posted = await fake.invoke_slash(world.admin, guild, "desk echo", text=text)
    await posted.wait()
    [message] = fake.messages_in(general)
    assert message.content == text
    assert fake.pings_of(world.alice) == []
    assert not message.mention_everyone and message.mentions == [] and message.mention_roles == []


async def test_opening_a_messages_thread_again_finds_the_thread(world: World) -> None:
    """A retry after a lost answer (the relay crashed) gets the thread, not an error."""
    from bot.core import ChannelRef, CommunityRef, MessageRef

    fake, guild = world.fake, world.guild
    general = guild.channel_named("general")
    said = await fake.user_says(world.admin, general, "news")
    port = world.app.discord.port
    on = MessageRef(ChannelRef(CommunityRef("discord", guild.id), general.id), said.id)
    first = await port.open_thread(on, "News")
    again = await port.open_thread(on, "News")
    assert first == again and first.id == said.id
    assert [c.name for c in fake.world.channels.values() if c.parent_id == general.id] == ["News"]


async def test_a_forum_post_sent_again_after_a_lost_answer_is_not_posted_twice(
    world: World,
) -> None:
    """A forum post takes no nonce: a resend finds Steward's post of that name first."""
    from bot.core import ChannelRef, CommunityRef, Message

    fake, guild = world.fake, world.guild
    forum = fake.add_channel(guild, "releases", type=15, tags=["News", "Release"])
    await fake.settle()
    port = world.app.discord.port
    where = ChannelRef(CommunityRef("discord", guild.id), forum.id)
    post = Message(text="Read it", post_name="Steward 2.0", post_tags=("release", "Nope"))
    first = await port.send(where, post, key="k1")
    await fake.settle()
    again = await port.send(where, post, key="k1", resend=True)
    assert again == first and first.channel.id == first.id  # the post is its own thread
    [thread] = [c for c in fake.world.channels.values() if c.parent_id == forum.id]
    assert thread.name == "Steward 2.0" and thread.id == first.id
    [release] = [t["id"] for t in forum.available_tags if t["name"] == "Release"]
    assert thread.applied_tags == [release]  # names matched in any case; unknown ones left out
    assert [m.content for m in fake.messages_in(thread)] == ["Read it"]
    assert await port.forum(where) is not None
    assert await port.forum(ChannelRef(where.community, guild.channel_named("general").id)) is None
