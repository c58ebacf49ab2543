"""Evidence is kept no longer than ``evidence_retention_days``; the weekly digest gains a
moderation line from the figures moderation publishes (counts only, never who)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.builtin import Steward
from cogs.engagement import Engagement
from cogs.moderation import Moderation
from sandbox.scenario import Community, Person, open_community
from tests.cogs.moderation.world import make_moderator
from tests.conftest import shared_dir


async def test_evidence_is_removed_after_the_retention_and_the_case_stays(
    community: Community, alice: Person
) -> None:
    bob = community.people["bob"]
    carl = await community.member_joins("carl")
    await community.configure("steward", staff_channel=community.channel_mention("mods"))
    await community.configure("moderation", evidence_retention_days="30")
    posted = await community.says(carl, "buy cheap followers at scam.example")
    await community.message_action(bob, posted, "Report message")
    await community.slash(alice, "moderation warn", member=carl, reason="spam links")
    ada = community.people["ada"]
    await community.slash(ada, "moderation automod add", kind="word", value="scam")
    await community.slash(ada, "moderation automod dryrun", rule=1, state="off")
    await community.says(carl, "a scam for you: cheap followers")

    await community.advance(days=29)
    kept = community.readable((await community.slash(alice, "moderation case", number=1)).text)
    assert "UTC: buy cheap followers at scam.example)" in kept
    hit = community.readable((await community.slash(alice, "moderation case", number=3)).text)
    assert "UTC: a scam for you: cheap followers)" in hit
    await community.advance(days=2)  # the daily job ran past the 30 days
    shown = community.readable((await community.slash(alice, "moderation case", number=1)).text)
    assert "scam.example" not in shown
    assert "report by @bob: open → open (evidence removed after 30 days)" in shown
    assert "Case #1: report" in shown and "a message (evidence removed after 30 days)" in shown
    warned = community.readable((await community.slash(alice, "moderation case", number=2)).text)
    assert "spam links" in warned  # a moderator's reason is not a member's words: it stays
    hit = community.readable((await community.slash(alice, "moderation case", number=3)).text)
    assert "Case #3: automod" in hit and "cheap followers" not in hit
    assert "(evidence removed after 30 days)" in hit
    listed = community.readable((await community.slash(alice, "moderation cases")).text)
    assert "scam.example" not in listed


@pytest.fixture(params=["discord", "slack"])
async def digesting(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Community]:
    """Moderation and engagement together (engagement sends the weekly digest)."""
    shared_dir()
    features = [Steward(), Moderation(), Engagement(flush_after=0)]
    async with open_community(request.param, database_url, features) as running:
        await make_moderator(running, running.people["alice"], running.people["ada"])
        yield running
        fake = running.fake  # type: ignore[attr-defined]
    assert not fake.violations, "\n".join(str(v) for v in fake.violations)


async def test_the_weekly_digest_has_a_moderation_line(digesting: Community) -> None:
    community = digesting
    alice, bob = community.people["alice"], community.people["bob"]
    carl = await community.member_joins("carl")
    await community.configure("steward", staff_channel=community.channel_mention("mods"))
    await community.configure(
        "engagement",
        digest_channel=community.channel_mention("mods"),
        digest_weekday="0",
        digest_hour="10",
    )
    # Monday 09:00 UTC: a report, a warning, two escalations (one resolved).
    await community.slash(bob, "moderation report", member=carl, what="rude")
    await community.slash(alice, "moderation warn", member=carl, reason="rude")
    await community.slash(alice, "moderation escalate", member=carl, summary="Refund missing")
    await community.slash(alice, "moderation escalate", member=bob, summary="App crashes")
    await community.slash(alice, "moderation resolve", case=4, note="Fixed in 2.3.1")
    await community.advance(minutes=55)  # moderation's figures at 09:50
    await community.advance(minutes=10)  # the digest at 10:00
    [digest] = [m for m in community.messages_in("mods") if "Weekly engagement" in m.text]
    text = community.readable(digest.text)
    assert (
        "Moderation: 1 report, 1 action, 2 escalations to the team; 1 case closed; "
        "1 escalation waiting for a fix (oldest under 1h)"
    ) in text
    assert "carl" not in text.split("Moderation:")[1].splitlines()[0]
