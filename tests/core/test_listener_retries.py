"""A listener that fails on something passing is tried again; what keeps failing is kept, shown
to the community's admins (``/steward failures show``) and the operator (``steward doctor``),
and can be handed back to its listener once the trouble is over."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import exc as sa
from sqlalchemy.engine import make_url

from bot.builtin import Steward
from bot.cli import main
from bot.core import (
    CommandContext,
    Context,
    Event,
    Feature,
    FeatureSettings,
    JobContext,
    Level,
    MemberJoined,
    Message,
    command,
    on,
    timer,
)
from bot.core.errors import Unavailable
from bot.core.failures import CLAIM, DUE_BATCH, TRIES_AT_ONCE, summary_of
from tests.core.harness import Harness


def database_locked() -> Exception:
    """What SQLAlchemy raises when SQLite's busy timeout runs out."""
    try:
        raise sqlite3.OperationalError("database is locked")
    except sqlite3.OperationalError as cause:
        try:
            raise sa.OperationalError("BEGIN IMMEDIATE", None, cause) from cause
        except sa.OperationalError as wrapped:
            return wrapped


class Doorman(Feature, name="doorman"):
    """Welcomes newcomers through the outbox, failing as ``faults`` says: the first fault
    before the commit (the welcome is rolled back), the next ones after it (the welcome has
    gone out; trying again must not send it twice)."""

    def __init__(self, faults: list[Exception], *, forever: Exception | None = None) -> None:
        self.faults = faults
        self.forever = forever
        self.tries = 0

    @on(MemberJoined)
    async def greet(self, ctx: Context[FeatureSettings], event: MemberJoined) -> None:
        """Welcome the newcomer once."""
        self.tries += 1
        user = event.member.ref
        await ctx.deliver(user, Message(text="Welcome in"), key=f"welcome:{user.id}")
        if self.forever is not None:
            raise self.forever
        if self.faults and self.tries == 1:
            raise self.faults.pop(0)
        await ctx.commit()
        if self.faults:
            raise self.faults.pop(0)


def welcomes(h: Harness, name: str) -> int:
    return sum(
        s.message.text == "Welcome in" and s.where == h.member(name).ref for s in h.port.sent
    )


async def join(h: Harness, name: str) -> None:
    """A newcomer arrives from the platform (through the intake, as the adapters hand it in)."""
    event = MemberJoined(community=h.community, at=h.clock.now(), member=h.member(name))
    await asyncio.wait_for(await h.app.dispatcher.submit(event), 30)


async def test_a_listener_failing_twice_on_passing_trouble_has_its_effect_once(
    database_url: str,
) -> None:
    doorman = Doorman([database_locked(), ConnectionResetError(104, "Connection reset by peer")])
    async with Harness(database_url, [Steward(), doorman]) as h:
        h.app.dispatcher.retry_delays = (0.01, 0.01, 0.01)
        await join(h, "nina")
        assert doorman.tries == 3
        assert welcomes(h, "nina") == 1
        shown = await h.run(h.member("ada", Level.ADMIN), "steward failures show")
        assert shown[0].text == "Nothing is waiting: every event here was handled."


async def test_a_listener_that_keeps_failing_is_kept_for_the_staff_and_the_operator(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    doorman = Doorman([], forever=ConnectionResetError(104, "Connection reset by peer"))
    async with Harness(database_url, [Steward(), doorman]) as h:
        h.app.dispatcher.retry_delays = (0.01, 0.01, 0.01)
        await join(h, "nina")
        assert doorman.tries == 4 and welcomes(h, "nina") == 0
        admin = h.member("ada", Level.ADMIN)

        # The community's admins see it, with the error id the log carries.
        shown = (await h.run(admin, "steward failures show"))[0]
        assert shown.ephemeral
        assert shown.text.startswith("1 event Steward could not handle here, even after retrying")
        assert "doorman, MemberJoined member=u-nina (4 tries; ConnectionResetError" in shown.text
        refused = await h.run(h.member("alice"), "steward failures show")
        assert "you need to be an admin" in refused[0].text

        # The operator sees it in `steward doctor`.
        monkeypatch.setenv("STEWARD_DATABASE_URL", database_url)
        capsys.readouterr()
        await asyncio.to_thread(main, ["doctor"])
        assert (
            "1 event kept as failed (doorman MemberJoined 1): a community's admins list them "
            "with `/steward failures show`" in capsys.readouterr().out
        )

        # The trouble is over: the admin hands it back, and the newcomer is welcomed once.
        doorman.forever = None
        retried = (await h.run(admin, "steward failures retry"))[0]
        assert retried.text == "Tried 1 event again: 1 handled now."
        assert welcomes(h, "nina") == 1
        again = await h.run(admin, "steward failures show")
        assert again[0].text == "Nothing is waiting: every event here was handled."
        assert (await h.run(admin, "steward failures retry"))[0].text == (
            "Nothing was waiting to be tried again."
        )


class Answered(Exception):
    """A platform client's error carrying the HTTP status (discord.py's shape)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


def platform_down() -> Unavailable:
    """What the Discord port raises when Discord answers 503."""
    try:
        raise Unavailable("Discord answered 503") from Answered(503)
    except Unavailable as exc:
        return exc


@pytest.mark.parametrize(
    "trouble",
    [
        platform_down,
        lambda: sa.TimeoutError("QueuePool limit of size 10 overflow 10 reached"),
    ],
    ids=["platform-5xx", "pool-full"],
)
async def test_a_platform_5xx_or_a_full_pool_is_retried_and_counted_without_asking_the_database(
    database_url: str, trouble: Callable[[], Exception], caplog: pytest.LogCaptureFixture
) -> None:
    """Only the database's own trouble sends a listener to wait for the database: under a
    full pool its probe would time out too, call the database unreachable, and the tries
    would stop counting."""
    doorman = Doorman([], forever=trouble())
    async with Harness(database_url, [Steward(), doorman]) as h:
        h.app.dispatcher.retry_delays = (0.01, 0.01, 0.01)
        probes = h.app.dispatcher.database.probes
        await join(h, "nina")
        assert doorman.tries == 4  # every try counted
        assert h.app.dispatcher.database.probes == probes  # the database was not asked
        assert "unreachable" not in caplog.text
        shown = (await h.run(h.member("ada", Level.ADMIN), "steward failures show"))[0].text
        assert "(4 tries;" in shown

        doorman.forever = database_locked()  # the database's own trouble does ask it
        await join(h, "omar")
        assert h.app.dispatcher.database.probes > probes


async def test_a_bug_is_not_retried(database_url: str) -> None:
    doorman = Doorman([], forever=KeyError("not passing trouble"))
    async with Harness(database_url, [Steward(), doorman]) as h:
        h.app.dispatcher.retry_delays = (0.01, 0.01, 0.01)
        await join(h, "nina")
        assert doorman.tries == 1
        shown = await h.run(h.member("ada", Level.ADMIN), "steward failures show")
        assert "(1 try; KeyError" in shown[0].text


async def scrape(h: Harness) -> str:
    """``/metrics`` as Prometheus reads it, over HTTP."""
    import aiohttp

    assert h.app.web is not None
    url = f"http://127.0.0.1:{h.app.web.port}/metrics"
    async with aiohttp.ClientSession() as http, http.get(url) as answer:
        assert answer.status == 200
        return await answer.text()


async def test_retries_and_kept_failures_are_counted_by_feature_in_metrics(
    database_url: str,
) -> None:
    doorman = Doorman([database_locked(), ConnectionResetError(104, "Connection reset by peer")])
    async with Harness(database_url, [Steward(), doorman], metrics=True, http_port=0) as h:
        h.app.dispatcher.retry_delays = (0.01, 0.01, 0.01)
        await join(h, "nina")  # fails twice on passing trouble, then welcomes
        metrics = await scrape(h)
        assert 'steward_events_retried_total{feature="doorman"} 2.0' in metrics
        assert "steward_events_failed_total{" not in metrics
        assert "steward_failed_events{" not in metrics

        doorman.forever = ConnectionResetError(104, "Connection reset by peer")
        await join(h, "omar")  # three retries, then kept
        metrics = await scrape(h)
        assert 'steward_events_retried_total{feature="doorman"} 5.0' in metrics
        assert 'steward_events_failed_total{feature="doorman"} 1.0' in metrics
        assert 'steward_failed_events{feature="doorman"} 1.0' in metrics

        doorman.forever = None
        admin = h.member("ada", Level.ADMIN)
        assert (await h.run(admin, "steward failures retry"))[0].text == (
            "Tried 1 event again: 1 handled now."
        )
        metrics = await scrape(h)
        assert 'steward_failed_events{feature="doorman"}' not in metrics  # none waiting now
        assert 'steward_events_failed_total{feature="doorman"} 1.0' in metrics  # a counter stays


async def test_passing_trouble_is_tried_again_by_itself_less_and_less_often_then_left_to_admins(
    database_url: str,
) -> None:
    doorman = Doorman([], forever=ConnectionResetError(104, "Connection reset by peer"))
    async with Harness(database_url, [Steward(), doorman]) as h:
        h.app.dispatcher.retry_delays = (0.01, 0.01, 0.01)
        failures = h.app.dispatcher.kept
        failures.auto_delays = tuple(timedelta(minutes=m) for m in (1, 5, 30))
        await join(h, "nina")
        assert doorman.tries == 4
        admin = h.member("ada", Level.ADMIN)
        shown = (await h.run(admin, "steward failures show"))[0].text
        assert "(4 tries; ConnectionResetError" in shown
        assert "next try by itself 2026-01-05 09:01 UTC" in shown

        await h.advance(timedelta(seconds=59))
        assert doorman.tries == 4  # not due yet
        await h.advance(timedelta(seconds=1))
        assert doorman.tries == 5  # one try only: the loop is not held up
        shown = (await h.run(admin, "steward failures show"))[0].text
        assert "(5 tries; ConnectionResetError" in shown
        assert "next try by itself 2026-01-05 09:06 UTC" in shown
        await h.advance(timedelta(minutes=5))
        await h.advance(timedelta(minutes=30))
        assert doorman.tries == 7
        shown = (await h.run(admin, "steward failures show"))[0].text
        assert "(7 tries; ConnectionResetError" in shown
        assert "tried 3 times by itself: waiting for you" in shown
        await h.advance(timedelta(hours=24))
        assert doorman.tries == 7 and welcomes(h, "nina") == 0

        # The admin can still hand it back once the trouble is over.
        doorman.forever = None
        assert (await h.run(admin, "steward failures retry"))[0].text == (
            "Tried 1 event again: 1 handled now."
        )
        assert welcomes(h, "nina") == 1


async def test_a_bug_is_not_tried_again_by_itself_and_an_admin_can_dismiss_it(
    database_url: str,
) -> None:
    doorman = Doorman([], forever=KeyError("not passing trouble"))
    async with Harness(database_url, [Steward(), doorman]) as h:
        await join(h, "nina")
        await join(h, "omar")
        await h.advance(timedelta(hours=12))
        assert doorman.tries == 2
        admin = h.member("ada", Level.ADMIN)
        shown = (await h.run(admin, "steward failures show"))[0].text
        assert shown.startswith("2 events Steward could not handle here")
        assert "next try by itself" not in shown
        code = shown.split("`")[-2]  # the oldest one's code, last in the list
        assert (await h.run(admin, "steward failures dismiss", error="zzz"))[0].text == (
            "No event waiting here has the code `zzz`; `/steward failures show` lists them."
        )
        dismissed = await h.run(admin, "steward failures dismiss", error=code)
        assert dismissed[0].text == "Dismissed 1 event: no longer listed or tried again."
        shown = (await h.run(admin, "steward failures show"))[0].text
        assert shown.startswith("1 event Steward") and code not in shown
        assert "member=u-omar" in shown
        refused = await h.run(h.member("alice"), "steward failures dismiss", error="all")
        assert "you need to be an admin" in refused[0].text
        all_gone = await h.run(admin, "steward failures dismiss", error="all")
        assert all_gone[0].text == "Dismissed 1 event: no longer listed or tried again."
        doorman.forever = None
        assert (await h.run(admin, "steward failures retry"))[0].text == (
            "Nothing was waiting to be tried again."
        )
        assert welcomes(h, "nina") == welcomes(h, "omar") == 0


async def test_an_automatic_and_a_manual_retry_never_run_one_event_at_once(
    database_url: str,
) -> None:
    """The automatic try holds the event; the admin's retry, meanwhile, leaves it alone."""
    gate = asyncio.Event()
    doorman = Doorman([], forever=ConnectionResetError(104, "Connection reset by peer"))
    async with Harness(database_url, [Steward(), doorman]) as h:
        h.app.dispatcher.retry_delays = ()
        await join(h, "nina")
        doorman.forever = None
        failures = h.app.dispatcher.kept
        replay = failures.replay
        assert replay is not None

        started = asyncio.Event()

        async def held(feature: str, listener: str, event: Event, once: bool, hold: Any) -> Any:
            started.set()  # the automatic try has claimed the event ...
            await gate.wait()  # ... and is under way, and slow
            return await replay(feature, listener, event, once, hold)

        failures.replay = held
        h.clock.advance(timedelta(minutes=1))
        automatic = asyncio.create_task(h.app.timers.run_due())
        await asyncio.wait_for(started.wait(), 10)
        admin = h.member("ada", Level.ADMIN)
        # (Were it run again meanwhile, it would wait for the same gate: the wait would fail.)
        meanwhile = (await asyncio.wait_for(h.run(admin, "steward failures retry"), 10))[0].text
        assert meanwhile == "1 event is being tried again right now; nothing else was waiting."
        gate.set()
        await automatic
        await failures.settle()
        assert welcomes(h, "nina") == 1 and doorman.tries == 2


class Porter(Feature, name="porter"):
    """Welcomes newcomers; ``during`` runs inside one try, after its welcome is committed, and
    that try then fails on passing trouble."""

    def __init__(self) -> None:
        self.tries = 0
        self.forever = True
        self.during: Callable[[], Awaitable[None]] | None = None

    @on(MemberJoined)
    async def greet(self, ctx: Context[FeatureSettings], event: MemberJoined) -> None:
        """Welcome the newcomer once."""
        self.tries += 1
        user = event.member.ref
        await ctx.deliver(user, Message(text="Welcome in"), key=f"welcome:{user.id}")
        if self.forever:
            raise ConnectionResetError(104, "Connection reset by peer")
        if self.during is not None:
            during, self.during = self.during, None
            await ctx.commit()
            await during()
            raise ConnectionResetError(104, "Connection reset by peer")


async def test_an_admins_retry_that_waited_past_its_claim_leaves_the_event_to_the_try_that_took_it(
    database_url: str,
) -> None:
    """The admin's retry waits between its tries (for the database, or a platform) longer than
    its claim; meanwhile the automatic try takes the event and handles it. The admin's retry
    then stops instead of running the listener on the same event again."""
    porter = Porter()
    async with Harness(database_url, [Steward(), porter]) as h:
        h.app.dispatcher.retry_delays = ()
        await join(h, "nina")
        assert porter.tries == 1
        porter.forever = False
        failures = h.app.dispatcher.kept

        async def meanwhile() -> None:
            # The admin's try waits past its claim; the automatic try comes due and runs.
            await h.advance(CLAIM + timedelta(minutes=1))
            assert porter.tries == 3 and welcomes(h, "nina") == 1

        porter.during = meanwhile
        h.app.dispatcher.retry_delays = (0.0,)
        admin = h.member("ada", Level.ADMIN)
        retried = (await h.run(admin, "steward failures retry"))[0].text
        assert porter.tries == 3  # the admin's retry did not run it again
        assert retried == "1 event is being tried again right now; nothing else was waiting."
        assert welcomes(h, "nina") == 1
        shown = await h.run(admin, "steward failures show")
        assert shown[0].text == "Nothing is waiting: every event here was handled."
        assert failures.waiting == 0


class Bell(Feature, name="bell"):
    """Rings on a timer: ``/bell ring`` schedules it for now."""

    def __init__(self) -> None:
        self.rung = asyncio.Event()

    @command("ring")
    async def ring(self, ctx: CommandContext[FeatureSettings]) -> None:
        """Ring the bell as soon as the timers look."""
        await ctx.timers.schedule("ring", at=ctx.clock.now(), key="ring")
        await ctx.reply("Ringing.")

    @timer("ring")
    async def rung_now(self, ctx: JobContext[FeatureSettings], payload: dict[str, Any]) -> None:
        """The timer ran."""
        self.rung.set()


async def test_many_automatic_tries_due_at_once_do_not_hold_up_a_timer(database_url: str) -> None:
    """After an outage, many kept failures come due together; their tries run in the background
    a few at a time, and a timer due meanwhile runs while they are still under way."""
    doorman = Doorman([], forever=ConnectionResetError(104, "Connection reset by peer"))
    bell = Bell()
    async with Harness(database_url, [Steward(), doorman, bell]) as h:
        h.app.dispatcher.retry_delays = ()
        names = [f"n{i}" for i in range(DUE_BATCH + 5)]
        for name in names:
            await join(h, name)
        doorman.forever = None
        failures = h.app.dispatcher.kept
        replay = failures.replay
        assert replay is not None
        gate = asyncio.Event()
        held: list[str] = []
        enough = asyncio.Event()

        async def slow(feature: str, listener: str, event: Event, once: bool, hold: Any) -> Any:
            held.append(summary_of(event))
            if len(held) == TRIES_AT_ONCE:
                enough.set()
            await gate.wait()  # the deliveries wait for a slow platform
            return await replay(feature, listener, event, once, hold)

        failures.replay = slow
        h.clock.advance(timedelta(minutes=1))
        h.app.timers.start()
        await asyncio.wait_for(enough.wait(), 30)  # the tries are under way, held
        await h.run(h.member("ada"), "bell ring")
        await asyncio.wait_for(bell.rung.wait(), 30)  # the timer ran meanwhile
        assert not gate.is_set() and len(held) == TRIES_AT_ONCE  # a few at a time, not 25
        gate.set()
        for _ in names:  # the loop starts the rest as the first ones finish
            await failures.settle()
            await h.app.timers.run_due()
        await failures.settle()
        assert all(welcomes(h, name) == 1 for name in names)
        shown = await h.run(h.member("ada", Level.ADMIN), "steward failures show")
        assert shown[0].text == "Nothing is waiting: every event here was handled."


async def test_a_join_during_a_database_outage_waits_for_it_then_is_handled_once(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another program holds SQLite's write lock for longer than the listener's retries: the
    listener waits for the database instead of spending its tries (nothing is kept as failed),
    and once the lock is released the newcomer is welcomed once. (PostgreSQL has no such lock
    to hold from outside; its outage goes through a proxy in test_database_away.)"""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's write lock, held by another connection")
    monkeypatch.setattr("bot.db.engine.SQLITE_BUSY_TIMEOUT_MS", 50)  # fail fast, not in 30 s
    doorman = Doorman([])
    async with Harness(database_url, [Steward(), doorman]) as h:
        h.app.dispatcher.retry_delays = (0.01, 0.01, 0.01)
        admin = h.member("ada", Level.ADMIN)
        await h.run(admin, "steward failures show")  # the community is known already
        outsider = sqlite3.connect(str(make_url(database_url).database), timeout=0)
        outsider.execute("BEGIN IMMEDIATE")
        try:
            event = MemberJoined(community=h.community, at=h.clock.now(), member=h.member("nina"))
            handled = await h.app.dispatcher.submit(event)
            await asyncio.sleep(0.5)  # many times the listener's whole retry budget
            assert h.app.dispatcher.database.away
            assert doorman.tries == 0 and not handled.done()  # waiting, not given up
            assert h.app.dispatcher.kept.waiting == 0 and welcomes(h, "nina") == 0
        finally:
            outsider.rollback()
            outsider.close()
        await asyncio.wait_for(handled, 30)
        await h.advance(timedelta(seconds=10))
        assert welcomes(h, "nina") == 1 and doorman.tries == 1
        await h.advance(timedelta(hours=9))
        assert welcomes(h, "nina") == 1
        shown = await h.run(admin, "steward failures show")
        assert shown[0].text == "Nothing is waiting: every event here was handled."
