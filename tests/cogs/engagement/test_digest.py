"""The weekly digest: at the managers' local day and hour, to a channel and by DM, with a chart."""

from __future__ import annotations

from sandbox.scenario import Community, DiscordCommunity, Posted, SlackCommunity, replies
from tests.cogs.engagement.test_health_report import emoji, field

TITLE = "Weekly engagement 2026-01-12 – 2026-01-18"


def digests(community: Community) -> tuple[list[Posted], list[Posted]]:
    """Digests posted in #mods, and digests ada got by DM."""
    ada = community.people["ada"]
    posted = [p for p in community.messages_in("mods") if "Weekly engagement" in p.text]
    dms = [p for p in community.dms_of(ada) if "Weekly engagement" in p.text]
    return posted, dms


def charts(community: Community, messages: list[Posted]) -> int:
    """How many PNG charts came with these messages (Slack: uploaded files)."""
    if isinstance(community, DiscordCommunity):
        return sum(
            1
            for m in messages
            for a in m.raw.attachments
            if str(a.get("filename", "")).endswith(".png")
        )
    assert isinstance(community, SlackCommunity)
    files = community.fake.world.files.values()
    return sum(1 for f in files if f.data.startswith(b"\x89PNG"))


async def test_weekly_digest_at_local_time_against_the_week_before(community: Community) -> None:
    ada, olivia = community.people["ada"], community.people["olivia"]
    alice, bob = community.people["alice"], community.people["bob"]
    # The clock starts on Monday 2026-01-05 at 09:00 UTC, 04:00 in New York.
    await community.configure("steward", timezone="America/New_York")
    await community.configure(
        "engagement",
        digest_channel=community.channel_mention("mods"),
        digest_dms=community.mention(ada),
        digest_weekday="0",
        digest_hour="9",
    )
    # The week before (2026-01-05 .. 01-11): alice and bob, 3 messages.
    await community.says(alice, "good morning")
    await community.says(alice, "coffee time")
    await community.says(bob, "morning all")
    await community.advance(days=7)  # Monday 2026-01-12 09:00 UTC: 04:00 in New York
    assert digests(community) == ([], [])

    # This week (2026-01-12 .. 01-18): alice, bob and olivia, 4 messages, 1 reaction,
    # bob's reply to alice (peer to peer) and bob's question nobody answers.
    notes = await community.says(alice, "release notes are up")
    await replies(community, bob, notes, "thanks, reading now")
    await community.says(olivia, "nice")
    await community.reacts(alice, notes, emoji(community, "tada"))
    await community.advance(days=1)
    await community.says(bob, "Is anyone going to the meetup?")

    await community.advance(days=6)  # Monday 2026-01-19 09:00 UTC: 04:00 in New York
    assert digests(community) == ([], [])
    await community.advance(hours=4)  # 08:00 in New York
    assert digests(community) == ([], [])
    await community.advance(hours=1)  # 09:00 in New York: the digest goes out
    posted, dms = digests(community)
    assert len(posted) == 1 and len(dms) == 1
    for digest in (posted[0], dms[0]):
        text = community.readable(digest.text)
        assert TITLE in text
        assert field(text, "Active members") == "3 (week before 2)"
        assert field(text, "Messages") == "4 (week before 3)"
        assert field(text, "Reactions") == "1 (week before 0)"
        assert field(text, "Communicators (posted)") == "3 (week before 2)"
        assert field(text, "New members") == "0 (week before 0)"
        assert field(text, "Departures") == "0 (week before 0)"
        assert field(text, "Net growth") == "+0 (week before +0)"
        assert field(text, "Response rate") == "0% (week before n/a)"
        assert field(text, "Answered within 24 hours") == "0% (week before n/a)"
        assert field(text, "Peer-to-peer replies") == "100% (week before n/a)"
        assert field(text, "Top helpers") == "nobody yet"
        lines = text.splitlines()
        at = next(i for i, line in enumerate(lines) if line.startswith("Unanswered questions ("))
        assert lines[at].startswith("Unanswered questions (1 open, the oldest asked 6d 5h ago):")
        assert lines[at + 1].startswith("@bob in ")
    assert charts(community, [*posted, *dms]) == 2

    await community.advance(hours=1)  # once a week, not once an hour
    await community.advance(days=1)
    assert [len(found) for found in digests(community)] == [1, 1]
