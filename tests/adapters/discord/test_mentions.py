"""Whatever text Steward relays, nobody is pinged: a property over mention-shaped text."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.adapters.discord.world import World

# Fragments a relayed text may hold; {placeholders} become ids of this world's people and roles.
MENTIONISH = (
    "@everyone",
    "@here",
    "<@{alice}>",
    "<@!{alice}>",
    "<@{admin}>",
    "<@&{gardeners}>",
    "<@&{everyone_role}>",
    "<#{general}>",
    "<@",
    "<@&",
    "<@!",
    "<!",
    "<!everyone>",
    "<!here>",
    ">",
    "@",
    "\\@everyone",
    "`@everyone`",
    "@\u200beveryone",
)
WORDS = st.text(alphabet="abcdefghij XYZ!?.,", min_size=1, max_size=8).filter(str.strip)
FRAGMENT = st.one_of(st.sampled_from(MENTIONISH), WORDS)
SEPARATOR = st.sampled_from(["", " ", "  ", "\n"])
TEXT = st.lists(st.tuples(FRAGMENT, SEPARATOR), min_size=1, max_size=12).map(
    lambda parts: "".join(f + s for f, s in parts).strip() or "hello"
)


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(template=TEXT)
async def test_relayed_text_never_pings_anyone(world: World, template: str) -> None:
    # One running bot serves every example (each goes through the real discord.py).
    fake, guild = world.fake, world.guild
    general = guild.channel_named("general")
    text = template.format(
        alice=world.alice.id,
        admin=world.admin.id,
        gardeners=world.gardeners.id,
        everyone_role=guild.id,
        general=general.id,
    )
    posted = await fake.invoke_slash(world.admin, guild, "desk echo", text=text)
    await posted.wait()
    message = fake.messages_in(general)[-1]
    assert message.content == text
    assert not message.mention_everyone
    assert message.mentions == [] and message.mention_roles == []
    for person in (world.alice, world.admin):
        assert message.id not in {m.id for m in fake.pings_of(person)}


async def test_the_property_would_catch_pings(world: World) -> None:
    """The fake does count pings when a message allows them: the property is not vacuous."""
    fake, guild = world.fake, world.guild
    general = guild.channel_named("general")
    await fake.user_says(world.admin, general, f"@everyone <@{world.alice.id}>")
    assert len(fake.pings_of(world.alice)) == 1


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(template=TEXT, style=st.sampled_from(["embed", "text"]))
async def test_a_relayed_feed_item_pings_only_the_routes_role(
    world: World, template: str, style: str
) -> None:
    # The announcement relay's post (its title, summary and author all this text) through a
    # route that may ping gardeners: only gardeners are pinged, whatever the item says.
    fake, guild = world.fake, world.guild
    general = guild.channel_named("general")
    text = template.format(
        alice=world.alice.id,
        admin=world.admin.id,
        gardeners=world.gardeners.id,
        everyone_role=guild.id,
        general=general.id,
    )
    posted = await fake.invoke_slash(
        world.admin, guild, "desk announce", text=text, style=style, role=world.gardeners
    )
    await posted.wait()
    message = fake.messages_in(general)[-1]
    assert not message.mention_everyone
    assert message.mentions == [] and message.mention_roles == [world.gardeners.id]
    assert message.id in {m.id for m in fake.pings_of(world.alice)}  # she holds the role
    assert message.id not in {m.id for m in fake.pings_of(world.admin)}
