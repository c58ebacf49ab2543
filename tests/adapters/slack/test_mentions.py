"""Nothing Steward relays on Slack pings anyone, whatever the text (property test, real adapter)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.adapters.slack.conftest import SlackWorld

_FIXED = (
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!here|here>",
    "<!subteam^S0001>",
    "<!subteam^S0001|@mods>",
    "@here",
    "@channel",
    "@everyone",
    "@ada",
    "&",
    "<",
    ">",
    "&amp;",
    "&lt;!here&gt;",
    "<@",
    "!here>",
    "<#C0001|general>",
    "**bold**",
    "[link](https://example.org)",
    "<https://example.org|click>",
    "hello",
    "spam",
)


def _fragments(user_ids: list[str]) -> st.SearchStrategy[str]:
    users = st.sampled_from(user_ids)
    return st.one_of(
        st.sampled_from(_FIXED),
        users.map(lambda u: f"<@{u}>"),
        users.map(lambda u: f"<@{u}|someone>"),
        st.text(alphabet="ab @!<>&|^#", min_size=1, max_size=6),
    )


def _texts(user_ids: list[str]) -> st.SearchStrategy[list[str]]:
    pieces = st.lists(_fragments(user_ids), min_size=1, max_size=6)
    line = st.tuples(pieces, st.sampled_from(["", " "])).map(lambda p: p[1].join(p[0]))
    return st.lists(line.filter(lambda t: t.strip()), min_size=25, max_size=25)


async def test_relayed_text_never_pings_and_never_unfurls(world: SlackWorld) -> None:
    fake = world.fake
    user_ids = [world.admin.id, world.alice.id, world.bob.id, fake.bot_user_id]
    fake.add_usergroup("mods", [world.admin, world.alice])
    drawn: list[list[str]] = []

    @settings(max_examples=1, database=None, suppress_health_check=list(HealthCheck))
    @given(_texts(user_ids))
    def draw(texts: list[str]) -> None:
        drawn.append(texts)

    draw()
    [texts] = drawn
    for text in texts:
        await fake.slash(world.bob, "/desk", f"echo x {text}")
    await world.settle()
    relayed = fake.messages_in("general", by=fake.bot_user_id)
    assert len(relayed) == len(texts)
    assert fake.pinging_messages() == []
    assert all(m.options == {"unfurl_links": False, "unfurl_media": False} for m in relayed)
    assert [e.text for e in fake.ephemerals_of(world.bob)] == ["Posted."] * len(texts)


async def test_a_relayed_feed_item_pings_only_the_routes_user_group(world: SlackWorld) -> None:
    # The announcement relay's post (title, summary and author all the drawn text) through a
    # route that may ping @mods: only the group's members are notified, whatever the item says.
    fake = world.fake
    user_ids = [world.admin.id, world.alice.id, world.bob.id, fake.bot_user_id]
    mods = fake.add_usergroup("mods", [world.alice])
    drawn: list[list[str]] = []

    @settings(max_examples=1, database=None, suppress_health_check=list(HealthCheck))
    @given(_texts(user_ids))
    def draw(texts: list[str]) -> None:
        drawn.append(texts)

    draw()
    [texts] = drawn
    for index, text in enumerate(texts[:12]):
        style = "embed" if index % 2 else "text"
        await fake.slash(world.bob, "/desk", f"announce {style} <!subteam^{mods.id}> {text}")
    await world.settle()
    relayed = fake.messages_in("general", by=fake.bot_user_id)
    assert len(relayed) == 12
    for message in fake.pinging_messages():
        assert set(message.pings.notified) <= {world.alice.id}, message.text
        assert not message.pings.users
    notified = [m for m in fake.pinging_messages() if world.alice.id in m.pings.notified]
    assert len(notified) == 12
