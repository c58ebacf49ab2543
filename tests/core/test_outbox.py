"""Outbox deliveries on both platforms: order kept through retries, failures end with a reason."""

from __future__ import annotations

from sqlalchemy import update

from bot.core._outbox_rows import LEASE
from bot.db.models import OutboxItem
from bot.db.uow import UnitOfWork
from sandbox.scenario import Community, DiscordCommunity, Person
from tests.core.courier import relayed
from tests.core.test_listener_retries import database_locked


def fail_posts(community: Community, times: int) -> None:
    """The platform answers the next ``times`` posts with a server error (HTTP 503)."""
    fake = community.fake  # type: ignore[attr-defined]
    if isinstance(community, DiscordCommunity):
        fake.fail_next(times, status=503)
    else:
        fake.faults.server_error(times, status=503, method="chat.postMessage")


async def says_quietly(community: Community, person: Person, text: str) -> None:
    """A person posts in #general, without waiting for Steward to handle it."""
    fake = community.fake  # type: ignore[attr-defined]
    if isinstance(community, DiscordCommunity):
        await fake.user_says(person.account, community.guild.channel_named("general"), text)
    else:
        await fake.user_says(person.account, fake.general(), text)


async def test_a_channel_keeps_its_order_while_a_post_is_retried(community: Community) -> None:
    alice, ada = community.people["alice"], community.people["ada"]
    fail_posts(community, 1)
    await community.says(alice, "relay one two three")
    assert relayed(community) == []  # "one" waits for its retry, and the others wait for it
    shown = await community.slash(ada, "courier outcome", word="two")
    assert shown.text == "two: pending after 0 tries"
    await community.advance(seconds=3)
    assert relayed(community) == ["one", "two", "three"]
    shown = await community.slash(ada, "courier outcome", word="one")
    assert shown.text == "one: sent after 2 tries"
    await community.says(alice, "relay one four")  # "one" was delivered already: once per key
    assert relayed(community) == ["one", "two", "three", "four"]


async def test_a_delivery_that_keeps_failing_ends_failed_with_its_reason(
    community: Community,
) -> None:
    alice, ada = community.people["alice"], community.people["ada"]
    fail_posts(community, 6)
    await community.says(alice, "relay doomed")
    for _ in range(5):
        await community.advance(minutes=1)
    assert relayed(community) == []
    shown = await community.slash(ada, "courier outcome", word="doomed")
    assert shown.text.startswith("doomed: failed after 6 tries (gave up after 6 tries: ")
    assert "503" in shown.text
    await community.says(alice, "relay next")  # a failed row no longer holds the channel
    assert relayed(community) == ["next"]


async def test_a_refused_delivery_fails_at_once_with_the_reason(community: Community) -> None:
    alice, ada = community.people["alice"], community.people["ada"]
    community.close_dms(alice)
    await community.says(alice, "relay-dm secret")
    shown = await community.slash(ada, "courier outcome", word="secret")
    assert shown.text == "secret: failed after 1 tries (their DMs are closed)"
    assert community.dms_of(alice) == []


async def test_the_same_problem_reported_by_fifty_events_is_told_once(
    community: Community,
) -> None:
    alice, ada = community.people["alice"], community.people["ada"]
    await community.says(alice, "trouble first")  # no staff channel yet: only logged
    assert [m for m in community.messages_in("mods") if "courier" in m.text] == []
    shown = await community.slash(
        ada,
        "steward settings set",
        feature="steward",
        key="staff_channel",
        value=community.channel_mention("mods"),
    )
    assert "staff_channel" in shown.text, shown.text
    for n in range(50):  # 50 events at once, racing each other; one wait at the end
        await says_quietly(community, alice, f"trouble number {n}")
    await community.settle()
    told = [m.text for m in community.messages_in("mods") if "courier" in m.text]
    assert len(told) == 1 and told[0].startswith("The courier lost a parcel (number ")


async def test_an_edit_waits_behind_its_post_and_a_deleted_post_is_not_edited(
    community: Community,
) -> None:
    alice, ada = community.people["alice"], community.people["ada"]
    fail_posts(community, 1)
    await community.says(alice, "relay one")
    await community.says(alice, "amend one uno")
    assert relayed(community) == []  # the edit waits behind its post's retry
    await community.advance(seconds=3)
    assert relayed(community) == []
    edited = [m for m in community.messages_in("general") if m.text.startswith("amended")]
    assert [m.text for m in edited] == ["amended uno"]  # one post, changed in place
    shown = await community.slash(ada, "courier outcome", word="amend:one:uno")
    assert shown.text == "amend:one:uno: sent after 1 tries"
    await community.deletes(alice, edited[0])
    await community.says(alice, "amend one dos")
    shown = await community.slash(ada, "courier outcome", word="amend:one:dos")
    assert shown.text == "amend:one:dos: failed after 1 tries (the post to edit was deleted)"
    await community.says(alice, "amend two tres")  # never relayed: nothing to edit
    shown = await community.slash(ada, "courier outcome", word="amend:two:tres")
    assert shown.text == "amend:two:tres: failed after 1 tries (the post to edit was never made)"


async def test_a_post_whose_try_was_never_recorded_is_not_posted_again_much_later(
    community: Community,
) -> None:
    """Steward crashed after the platform took a post and before writing it down, and comes
    back after Discord forgot the nonce ("a few minutes"): it looks before it posts again."""
    alice, ada = community.people["alice"], community.people["ada"]
    await community.says(alice, "relay alpha beta")
    assert relayed(community) == ["alpha", "beta"]
    async with community.app.db.uow() as uow:
        await uow.session.execute(
            update(OutboxItem)
            .where(OutboxItem.idempotency_key.like("%relay:beta"))
            .values(status="pending", message_id=None, sent_at=None, attempts=0)
        )
        await uow.commit()
    fake = community.fake  # type: ignore[attr-defined]
    if isinstance(community, DiscordCommunity):
        fake.world.nonces.clear()  # the nonce's few minutes are over
    await community.advance(seconds=LEASE.total_seconds() + 1)  # its claim's lease passed
    assert relayed(community) == ["alpha", "beta"]
    shown = await community.slash(ada, "courier outcome", word="beta")
    assert shown.text == "beta: sent after 1 tries"
    await community.says(alice, "relay gamma")  # and the channel goes on
    assert relayed(community) == ["alpha", "beta", "gamma"]


async def test_a_channel_whose_drain_met_a_busy_database_is_delivered_before_steward_is_quiet(
    community: Community,
) -> None:
    """The database was busy when the channel's second post was to be taken: the lane is
    drained again a second later, and Steward is not quiet (nothing a test or a member reads
    is final) until that is done."""
    alice = community.people["alice"]
    deliverer = community.app.dispatcher.deliverer
    sessions = deliverer.sessions
    busy = [database_locked()]

    def once_busy() -> UnitOfWork:
        if busy:
            raise busy.pop()
        return sessions()

    deliverer.sessions = once_busy
    await community.says(alice, "relay one two three")
    assert not busy, "the database was never asked"
    assert relayed(community) == ["one", "two", "three"]


async def test_a_lane_keeps_no_lock_once_its_posts_went_out(community: Community) -> None:
    """A lock per lane ever used (every newcomer's DM is a lane) would grow for the life of the
    process: the soak saw memory climb with each welcome."""
    alice, bob = community.people["alice"], community.people["bob"]
    await community.says(alice, "relay one two")
    await community.says(alice, "relay-dm hello")
    await community.says(bob, "relay-dm hi")
    assert relayed(community) == ["one", "two"]
    assert community.app.dispatcher.deliverer._locks == {}
