"""Shared fixtures: a real database per test (a SQLite file, and PostgreSQL) and ../shared."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import os
import shutil
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import asyncpg
import pytest

from bot.db import schema

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() == "true"
# The fakes enforce the platforms' rate limits (5 messages per 5 s per Discord channel, 1 a
# second per Slack channel, ...). Tests run those windows 50 times faster, and Steward, reading
# the same variable, paces to the same speed: the rules stay, the seconds shrink (a join storm's
# 60 welcomes in one channel take 1.2 s). Tests of the limits themselves pick slower speeds.
os.environ.setdefault("STEWARD_PLATFORM_SPEED", "50")
POSTGRES_URL = os.environ.get(
    "STEWARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """After parallel workers (pytest-xdist), merge their parts of the Discord operations report."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    report = ROOT / "artifacts" / "discord-operations.txt"
    parts = sorted(report.parent.glob(f"{report.stem}.*.part"))
    if not parts:
        return
    operations = {line for part in parts for line in part.read_text().splitlines() if line}
    report.write_text("".join(f"{op}\n" for op in sorted(operations)), encoding="utf-8")
    for part in parts:
        part.unlink()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """In parallel workers, each worker starts its share of the slow tests (marked ``slow``)
    first. pytest-xdist's worksteal hands each worker an equal run of the collection in order,
    and idle workers take the ends of the others' runs: the slow tests, most of them at the end
    of the collection (tests/core, tests/test_*.py), ran last and the run waited minutes for
    one or two workers. Every worker collects the same order (xdist requires it)."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    slow = [item for item in items if item.get_closest_marker("slow")]
    if workers < 2 or not slow:
        return
    rest = iter(item for item in items if not item.get_closest_marker("slow"))
    ordered: list[pytest.Item] = []
    left = len(items)
    for worker in range(workers):  # the runs worksteal sends: left // workers still to serve
        size = left // (workers - worker)
        left -= size
        run = slow[worker::workers]
        ordered += run + list(itertools.islice(rest, max(0, size - len(run))))
    items[:] = ordered + list(rest)


def shared_dir() -> Path:
    """../shared beside the repository; skips (or fails in CI) when it is absent."""
    path = Path(os.environ.get("STEWARD_SHARED_DIR", ROOT.parent / "shared"))
    if not path.is_dir():
        message = f"../shared is absent ({path}): the spec and data files live there"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


async def until(
    check: Callable[[], Awaitable[object] | object],
    what: str | Callable[[], str],
    *,
    within: float = 30,
    every: float = 0.01,
) -> None:
    """Wait for a condition, not for a time: ``check`` (plain or async) is asked every
    ``every`` seconds until it answers true; the test fails only if that never comes within
    ``within`` seconds (a bound for a loaded machine, not a speed), saying what it waited for
    (``what``, or what it returns then: it may say what is still missing)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        done = check()
        if inspect.isawaitable(done):
            done = await done
        if done:
            return
        if loop.time() > deadline:
            said = what if isinstance(what, str) else what()
            raise AssertionError(f"gave up waiting ({within:g} s) for: {said}")
        await asyncio.sleep(every)


def _pg_dsn(database: str) -> str:
    base, _, _ = POSTGRES_URL.rpartition("/")
    return f"{base}/{database}"


async def _pg_exec(sql: str) -> None:
    conn = await asyncpg.connect(POSTGRES_URL.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def require_postgres() -> None:
    """Skip when PostgreSQL is unreachable (fail instead when CI=true)."""
    try:
        asyncio.run(_pg_exec("SELECT 1"))
    except Exception as exc:
        message = f"PostgreSQL is not reachable at {POSTGRES_URL} ({type(exc).__name__}: {exc})"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per session; tests get copies."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    schema.upgrade_sync(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A PostgreSQL database migrated to head once per session; tests get clones."""
    require_postgres()
    name = f"steward_tpl_{os.getpid()}"
    asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}"'))
    asyncio.run(_pg_exec(f'CREATE DATABASE "{name}"'))
    schema.upgrade_sync(_pg_dsn(name))
    yield name
    asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class _Clones:
    """Fresh clones of the migrated template, made and dropped by one thread of this worker
    while the tests run: the next test's clone is made while the current test runs, and a
    finished test's clone is dropped after it, so no test waits for either (each took 0.2 to
    1.5 s of every PostgreSQL test's setup and teardown; PostgreSQL fsyncs both). One thread,
    so one clone of the template is made at a time (PostgreSQL refuses two at once)."""

    def __init__(self, template: str) -> None:
        self.template = template
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="steward-clones")
        self.next = self._make()
        self.failed: list[str] = []

    def _make(self) -> Future[str]:
        def make() -> str:
            name = f"steward_t_{uuid.uuid4().hex[:12]}"
            asyncio.run(_pg_exec(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
            return name

        return self.thread.submit(make)

    def take(self) -> str:
        """A fresh clone (made meanwhile, or now); the next one is started."""
        found, self.next = self.next, self._make()
        return found.result()

    def drop(self, name: str) -> None:
        """Drop a clone after the test, without waiting for it."""

        def drop() -> None:
            try:
                asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            except Exception as exc:
                self.failed.append(f"{name}: {type(exc).__name__}: {exc}")

        self.thread.submit(drop)

    def close(self) -> None:
        """Drop the spare clone and wait for every drop."""
        with contextlib.suppress(Exception):
            self.drop(self.next.result())
        self.thread.shutdown(wait=True)


@pytest.fixture(scope="session")
def postgres_clones(postgres_template: str) -> Iterator[_Clones]:
    """This worker's clones of the template (closed before the template is dropped)."""
    clones = _Clones(postgres_template)
    yield clones
    clones.close()
    assert not clones.failed, "dropping test databases failed:\n" + "\n".join(clones.failed)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for one test, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "steward.db"
        shutil.copyfile(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    clones: _Clones = request.getfixturevalue("postgres_clones")
    name = clones.take()
    yield _pg_dsn(name)
    clones.drop(name)


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no tables), on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    require_postgres()
    name = f"steward_e_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_exec(f'CREATE DATABASE "{name}"'))
    yield _pg_dsn(name)
    asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(autouse=True)
def _journals_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Slack events journaled while a test's database is away go to the test's own directory
    (by default, for PostgreSQL, they would go to steward-spill/ in the working directory)."""
    monkeypatch.setenv("STEWARD_SPILL_DIR", str(tmp_path / "spill"))
