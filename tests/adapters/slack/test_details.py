"""What is particular to Slack: escaping, user groups as roles, link buttons, fallbacks, help."""

from __future__ import annotations

import html
from typing import Annotated, Any

from bot.builtin import Steward
from bot.core import Button, ChannelRef, CommandContext, CommunityRef, Feature, Message, command
from tests.adapters.desk import Desk
from tests.adapters.slack.conftest import SlackWorld, StartWorld
from tests.core.garden import Garden


class Badge(Feature, name="badge"):
    """Shows what Steward knows about the one who runs it; announces with a title."""

    @command("me")
    async def me(self, ctx: CommandContext[Any]) -> None:
        """Who am I to Steward."""
        roles = ", ".join(sorted(r.id for r in ctx.actor.roles)) or "none"
        await ctx.reply(f"{ctx.actor.level.label}; groups: {roles}")

    @command("announce", ephemeral=False)
    async def announce(self, ctx: CommandContext[Any], text: Annotated[str, "What"]) -> None:
        """Post a titled message with fields and a link button, all made of the text."""
        await ctx.port.send(
            ctx.channel,
            Message(
                title=text,
                text=text,
                fields=((text, text),),
                buttons=(Button("docs", text[:70] or "docs", url="https://example.org/docs"),),
            ),
        )
        await ctx.reply("Announced.", ephemeral=True)


async def _badge_world(start_world: StartWorld) -> SlackWorld:
    return await start_world([Steward(), Garden(), Desk(), Badge()])


async def test_user_groups_are_the_members_roles(start_world: StartWorld) -> None:
    world = await _badge_world(start_world)
    fake = world.fake
    mods = fake.add_usergroup("mods", [world.alice])
    shown = await fake.slash(world.alice, "/badge", "me")
    await world.settle()
    assert [s.text for s in shown.shown] == [f"a member; groups: {mods.id}"]
    plain = await fake.slash(world.bob, "/badge", "me")
    await world.settle()
    assert [s.text for s in plain.shown] == ["a member; groups: none"]


async def test_a_title_made_of_outside_text_pings_nobody(start_world: StartWorld) -> None:
    world = await _badge_world(start_world)
    fake = world.fake
    text = f"<!channel> <@{world.alice.id}> <!subteam^S1|@mods> @here & <b>"
    await fake.slash(world.admin, "/badge", f"announce {text}")
    await world.settle()
    [posted] = fake.messages_in("general")
    assert fake.pinging_messages() == []
    assert "&lt;!channel&gt;" in posted.text and "@alice" in posted.text
    assert posted.options == {"unfurl_links": False, "unfurl_media": False}


async def test_a_link_button_click_is_acked_and_ignored(start_world: StartWorld) -> None:
    world = await _badge_world(start_world)
    fake = world.fake
    await fake.slash(world.admin, "/badge", "announce Read the docs")
    await world.settle()
    [posted] = fake.messages_in("general")
    [button] = [e for b in posted.blocks if b["type"] == "actions" for e in b["elements"]]
    assert button["url"] == "https://example.org/docs"
    clicked = await fake.click(world.bob, posted, button["action_id"])
    await world.settle()
    assert clicked.delivery.ok and clicked.error is None
    assert clicked.shown == [] and fake.ephemerals_of(world.bob) == []


async def test_text_arrives_escaped_and_is_posted_as_typed(world: SlackWorld) -> None:
    """Slack escapes &, < and > in slash command text (should_escape); they are not doubled."""
    fake = world.fake
    await fake.slash(world.alice, "/desk", "echo Tom &amp; Jerry &lt;3")
    await world.settle()
    [posted] = fake.messages_in("general")
    assert posted.text == "Tom &amp; Jerry &lt;3"
    assert html.unescape(posted.text) == "Tom & Jerry <3"


async def test_steward_help_runs_the_builtin_help_with_its_argument(world: SlackWorld) -> None:
    fake = world.fake
    shown = await fake.slash(world.alice, "/steward", "help garden")
    await world.settle()
    [text] = [html.unescape(t) for t in shown.texts]
    assert shown.ephemeral and "Steward help" in text and "/garden plant" in text
    assert "/desk" not in text


async def test_an_answer_that_cannot_be_shown_in_the_channel_goes_to_dms(
    world: SlackWorld,
) -> None:
    fake = world.fake
    await fake.slash(world.alice, "/desk", "feedback")
    await world.settle()
    modal = fake.modal_of(world.alice)
    assert modal is not None
    fake.faults.fail("chat.postEphemeral", "channel_not_found")
    await fake.submit_view(world.alice, modal, {"text": "Nice"})
    await world.settle()
    assert [m.text for m in fake.dms_of(world.alice)] == ["Thanks for: Nice"]


async def test_the_home_tab_escapes_what_it_shows(world: SlackWorld) -> None:
    fake = world.fake
    await fake.open_home(world.admin)
    await world.settle()
    home = fake.home_of(world.admin)
    assert home is not None
    texts = [b["text"]["text"] for b in home.data["blocks"] if b["type"] == "section"]
    assert "an admin" in texts[0]
    assert "`/desk whois &lt;member&gt;`" in texts[1]
    assert "<member>" not in texts[1]


async def test_history_reads_a_backlog_of_several_pages_from_its_oldest_message(
    world: SlackWorld,
) -> None:
    """Slack pages newest first: the first messages after ``after`` are there all the same."""
    fake = world.fake
    first = await fake.user_says(world.alice, "general", "the cursor")
    await fake.socket_outage()  # nobody hears these; only history has them
    said = [await fake.user_says(world.bob, "general", f"n{i}") for i in range(450)]
    fake.socket_restored()
    general = ChannelRef(CommunityRef("slack", fake.team.id), fake.general().id)

    found = await world.adapter.port.history(general, first.ts, 200)
    assert [e.message.id for e in found] == [m.ts for m in said[:200]]
    rest = await world.adapter.port.history(general, said[-1].ts, 200)
    assert rest == []
    await world.settle()


async def test_a_dm_is_one_post_to_the_members_id_with_no_conversations_open(
    world: SlackWorld,
) -> None:
    """A DM is chat.postMessage with the member's user id as its channel: Slack posts it in the
    app's DM with them. No conversations.open first (Tier 3, about 50 a minute: a join storm's
    welcome DMs would queue for it); the DM still lands where the member reads it."""
    fake = world.fake
    nina = await fake.member_joins("nina")
    await world.settle()
    assert sorted(m.text for m in fake.dms_of(nina)) == ["Welcome to the garden", "Welcome, nina!"]
    assert fake.calls_to("conversations.open") == []
    posted = [c for c in fake.calls_to("chat.postMessage") if c.args.get("channel") == nina.id]
    assert len(posted) == 2
