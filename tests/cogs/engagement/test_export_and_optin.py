"""What a manager downloads with /engagement export, and a member who opts back in."""

from __future__ import annotations

import csv
import io

from sandbox.scenario import Community, DiscordCommunity, SlackCommunity, replies
from tests.cogs.engagement.test_health_report import emoji, field


def downloaded_csv(community: Community, shown: object) -> list[dict[str, str]]:
    """The rows of the CSV the person received, read from the file the platform stored."""
    if isinstance(community, DiscordCommunity):
        files = [
            community.fake.attachments[a["id"]]
            for m in shown.messages  # type: ignore[attr-defined]
            for a in m.attachments
            if a["filename"] == "engagement.csv"
        ]
    else:
        assert isinstance(community, SlackCommunity)
        files = [f.data for f in community.fake.world.files.values() if f.name == "engagement.csv"]
    assert len(files) == 1, f"expected one engagement.csv, got {len(files)}"
    return list(csv.DictReader(io.StringIO(files[0].decode())))


async def test_export_holds_the_days_figures_per_channel(community: Community) -> None:
    ada, alice, bob = community.people["ada"], community.people["alice"], community.people["bob"]
    asked = await community.says(alice, "how do I join the meetup?")
    await replies(community, bob, asked, "sign up in the wiki")
    await community.reacts(bob, asked, emoji(community, "eyes"))
    await community.says(alice, "thanks!", channel="intros")

    exported = await community.slash(ada, "engagement export")
    assert exported.ephemeral
    rows = downloaded_csv(community, exported)
    by_channel = {row["channel"]: row for row in rows}
    assert sorted(by_channel) == ["#general", "#intros"]  # channels by name, not raw ids
    general = by_channel["#general"]
    assert general["date"] == "2026-01-05"
    assert (general["active_members"], general["messages"]) == ("2", "2")
    assert (general["reactions"], general["replies"], general["questions"]) == ("1", "1", "1")
    assert (by_channel["#intros"]["active_members"], by_channel["#intros"]["messages"]) == (
        "1",
        "1",
    )
    # Aggregates only: nobody's id is in the file.
    assert not any(person.id in str(row.values()) for row in rows for person in (alice, bob))


async def test_opting_back_in_counts_again(community: Community) -> None:
    bob, ada = community.people["bob"], community.people["ada"]
    await community.says(bob, "before")
    out = await community.slash(bob, "engagement optout")
    assert out.ephemeral and "deleted" in out.text
    await community.says(bob, "while out")
    back = await community.slash(bob, "engagement optin")
    assert back.ephemeral and "counts again" in back.text
    await community.says(bob, "after")
    await community.says(bob, "and again?")

    mine = await community.slash(bob, "engagement me", period="7d")
    assert field(mine.text, "Messages") == "2"  # only what he said after opting in
    assert field(mine.text, "Questions") == "1"
    shown = await community.slash(ada, "engagement report", period="7d")
    assert field(shown.text, "Messages") == "2"
    assert field(shown.text, "Active members").startswith("1 ")


async def test_opting_out_twice_says_so(community: Community) -> None:
    bob = community.people["bob"]
    first = await community.slash(bob, "engagement optout")
    assert first.ephemeral and first.text.startswith("Done:")
    again = await community.slash(bob, "engagement optout")
    assert again.ephemeral
    assert again.text == (
        "You are already opted out: nothing is tracked about you. "
        "`/engagement optin` turns tracking back on."
    )


def test_no_channel_cell_reads_as_a_spreadsheet_formula() -> None:
    from cogs.engagement._admin import channel_cell

    names = {"C1": "=HYPERLINK(1)", "C2": "general"}
    assert channel_cell("C1", names) == "#=HYPERLINK(1)"  # the # keeps a name from starting one
    assert channel_cell("C2", names) == "#general" and channel_cell("C9", names) == "C9"
    for cell in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1"):  # an id the platform never gave
        assert channel_cell(cell, names) == "'" + cell
