"""A feed's text shows as typed: its markdown (masked links, headings, quotes, code, spoilers,
emphasis) never becomes formatting on Discord or Slack; only the manager's template formats."""

from __future__ import annotations

import re
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.slack.text import to_mrkdwn
from bot.core.markup import unescape_markup
from cogs.announcements._items import Item
from cogs.announcements._render import Look, post, values
from cogs.announcements._stats import Posted, stats_text
from sandbox.feeds import FeedServer
from sandbox.scenario import Community, DiscordCommunity, Seen
from tests.cogs.announcements.conftest import relayed

UTC = ZoneInfo("UTC")
ZWSP = "\u200b"
_LIST = re.compile(r"[ \t]*(?:[-+]|\d+\.)")


def discord_markup(text: str) -> list[str]:
    """What Discord would format in ``text``: each unescaped markup character, and each line
    that starts a heading, subtext, quote or list (a backslash before punctuation escapes it)."""
    found: list[str] = []
    for line in text.split("\n"):
        bare = line.replace(ZWSP, "")
        if _LIST.match(bare):
            found.append("list")
        elif bare.lstrip().startswith(("#", ">")):
            found.append("heading" if bare.lstrip()[0] == "#" else "quote")
        i = 0
        while i < len(line):
            if line[i] == "\\" and i + 1 < len(line) and line[i + 1].isascii():
                i += 2 if not line[i + 1].isalnum() else 1
                continue
            if line[i] in "*_~`|[]<>":
                found.append(line[i])
            i += 1
    return found


def slack_markup(mrkdwn: str) -> list[str]:
    """What Slack would format in mrkdwn: links and mentions (``<…>``), emphasis, strike and code
    marks not fenced by zero-width spaces, quotes, and stray ampersands."""
    found = [c for c in mrkdwn if c in "<>"]
    for i, char in enumerate(mrkdwn):
        fenced = 0 < i < len(mrkdwn) - 1 and mrkdwn[i - 1] == ZWSP == mrkdwn[i + 1]
        if char in "*_~`" and not fenced:
            found.append(char)
    found += ["quote" for line in mrkdwn.split("\n") if line.startswith(("&gt;", ">"))]
    found += ["&" for _ in re.finditer(r"&(?!amp;|lt;|gt;)", mrkdwn)]
    return found


PIECES = [
    *"ab .:()\n\\*_~`|[]<>#-+1!@&",
    "[click](http://evil.example)",
    "# Heading",
    "-# small",
    "> quote",
    "```py\n",
    "||spoiler||",
    "**bold**",
    "__u__",
    "~~s~~",
    "1. ",
    "<t:1:R>",
    "<#123>",
    "</cmd:1>",
    "@everyone",
    "<@&1>",
]
HOSTILE = st.lists(st.sampled_from(PIECES), max_size=10).map("".join)


@settings(max_examples=300, deadline=None)
@given(HOSTILE, HOSTILE, HOSTILE, st.sampled_from(["embed", "text"]))
def test_property_an_items_text_forms_no_markup_on_either_platform(
    title: str, summary: str, author: str, style: str
) -> None:
    item = Item(
        guid="p", title=title, link="https://e.org/p", summary=escape(summary), author=author
    )
    plain = post(item, author, UTC, Look(style, "{title} {summary} {author} {source}"))
    formatted = Look(style, "**{title}** [{source}]({link})\n> {summary}")
    manager = post(item, author, UTC, formatted)
    benign = post(
        Item(guid="b", title="t", link="https://e.org/p", summary="s"), "a", UTC, formatted
    )
    for shown in (plain, manager):
        for part in (shown.text, shown.title or ""):
            assert "@everyone" not in part and "<@" not in part
    # Only what the manager wrote formats: nothing at all, or exactly the template's markup.
    assert discord_markup(plain.text) == [] and discord_markup(plain.title or "") == []
    assert slack_markup(to_mrkdwn(plain.text)) == []
    assert discord_markup(manager.text) == discord_markup(benign.text)
    assert discord_markup(benign.text) == ["*", "*", "*", "*", "[", "]", "quote", ">"]
    # Escaping hides nothing: the title reads as the feed wrote it (pings made inert).
    typed = str(values(item, author, UTC)["title"])
    if style == "embed" and len(typed) < 100:
        assert unescape_markup(plain.title or "").replace(ZWSP, "") == typed.replace(ZWSP, "")


def _masked(community: Community) -> str:
    item = (
        "<item><guid>x</guid><title>[Claim your prize](https://evil.example/) **now**</title>"
        "<link>https://e.org/x</link><description>"
        + escape("# Big\n-# tiny\n> quoted ||secret|| `code`")
        + "</description></item>"
    )
    return f"<rss version='2.0'><channel><title>B</title>{item}</channel></rss>"


async def test_a_feeds_masked_link_and_markdown_show_as_text_to_members(
    community: Community, public: FeedServer
) -> None:
    ada = community.people["ada"]
    url = public.put("/blog.xml", b"<rss version='2.0'><channel><title>B</title></channel></rss>")
    await community.slash(ada, "announcements add", url=url, channel="#general")
    public.put("/blog.xml", _masked(community).encode())
    await community.advance(minutes=11)
    [shown] = relayed(community)
    if isinstance(community, DiscordCommunity):
        [embed] = shown.raw.embeds
        assert embed["title"] == r"\[Claim your prize\](https://evil.example/) \*\*now\*\*"
        assert embed["url"] == "https://e.org/x"
        assert discord_markup(embed["title"]) == discord_markup(embed["description"]) == []
        assert unescape_markup(embed["description"]).startswith("# Big\n-# tiny\n> quoted")
    else:
        blocks = shown.raw.data["blocks"]
        heading = blocks[0]["text"]["text"]
        assert heading.startswith("*<https://e.org/x|[Claim your prize](https://evil.example/)")
        assert "<https://evil" not in str(blocks)
        body = blocks[1]["text"]["text"]
        assert slack_markup(body) == []
        assert body.replace(ZWSP, "").startswith("# Big\n-# tiny\n&gt; quoted ||secret|| `code`")


def test_the_stats_show_a_feeds_titles_as_typed() -> None:
    sneaky = Posted("[Win](https://evil.example) **now**", "# Blog", 2, 1, 0, 60, 0, 0)
    shown = stats_text([sneaky], "1w")
    ranked = shown.split("\n")[2]
    assert ranked.startswith("1. ") and discord_markup(ranked[3:]) == []  # Steward's list only
    assert "“\\[Win\\](https://evil.example) \\*\\*now\\*\\*” (\\# Blog)" in shown
    assert "• \\# Blog: 1 post, 2 replies" in shown


SNEAKY = "[Win](https://evil.example) **now** ||x|| `y` <#1> <!here> @everyone # end"


def _titles_shown(community: Community, seen: Seen) -> list[str]:
    """Each place an answer shows the sneaky title, as its markup reaches the platform (Slack:
    the mrkdwn sent, not as the client renders it)."""
    raw = (
        [str(m.content) for m in seen.messages]
        if isinstance(community, DiscordCommunity)
        else [str(m.text) for m in seen.raw.shown]
    )
    return [t for text in raw for t in re.findall(r"(?:• |“)(\S*Win.*?end)", text)]


async def test_titles_in_the_check_log_and_test_answers_show_as_typed_and_ping_nobody(
    community: Community, public: FeedServer
) -> None:
    ada = community.people["ada"]
    item = f"<item><guid>x</guid><title>{escape(SNEAKY)}</title><link>https://e.org/x</link>"
    feed = "<rss version='2.0'><channel><title>B</title>{}</channel></rss>"
    url = public.put("/blog.xml", feed.format("").encode())
    await community.slash(ada, "announcements add", url=url, channel="#general")
    await community.slash(
        ada, "announcements route add", feed="1", channel="#welcome", filter="title contains 'win'"
    )
    public.put("/blog.xml", feed.format(item + "</item>").encode())
    await community.advance(minutes=11)
    check = await community.slash(ada, "announcements check", feed="1")
    log = await community.slash(ada, "announcements log")
    tested = await community.slash(ada, "announcements test", route="2")
    checked, logged = _titles_shown(community, check), _titles_shown(community, log)
    # check: the newest item, its 2 log lines, route 2's filter verdict; log: its 2 routes
    assert len(checked) == 4 and len(logged) == 2, (check.text, log.text)
    [already] = _titles_shown(community, tested)  # "Route 2 already posted “…”: nothing to test."
    named = []
    if isinstance(community, DiscordCommunity):  # a forum post's name, in the preview's note
        community.fake.add_channel(community.guild, "releases", type=15, tags=["News"])
        await community.settle()
        await community.slash(
            ada, "announcements route add", feed="1", channel="#releases", tags="News"
        )
        preview = await community.slash(ada, "announcements preview", route="3")
        assert "It opens a forum post named “" in preview.texts[0]
        named = _titles_shown(community, preview)[:1]
        assert named, preview.texts
    for shown in [*checked, *logged, already, *named]:
        if isinstance(community, DiscordCommunity):
            assert discord_markup(shown) == [], shown
            assert unescape_markup(shown).startswith("[Win](https://evil.example) **now** ||x||")
        else:
            assert slack_markup(shown) == [], shown
            assert "<https://evil" not in shown and "<!here>" not in shown
        assert "@everyone" not in shown
