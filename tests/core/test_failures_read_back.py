"""A kept event is read back as the event it was, and a row altered in the database can't make
Steward call anything: only the classes an event is made of are accepted."""

from __future__ import annotations

import os
import pickle
from datetime import UTC, datetime

import pytest

from bot.core.clock import FakeClock
from bot.core.events import MemberJoined, MemberLeft
from bot.core.failures import MAX_WAITING, Failures, read_event
from bot.core.ids import CommunityRef, RoleRef, UserRef
from bot.core.members import Member


def test_a_kept_join_reads_back_whole() -> None:
    home = CommunityRef("discord", "1")
    joined = MemberJoined(
        community=home,
        at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        member=Member(
            ref=UserRef(home, "42"),
            display_name="nina",
            joined_at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
            roles=frozenset({RoleRef(home, "7")}),
        ),
    )
    assert read_event(pickle.dumps(joined, protocol=pickle.HIGHEST_PROTOCOL)) == joined


class _Calls:
    """Pickles as a call of ``target(*args)``, as an altered row could."""

    def __init__(self, target: object, *args: object) -> None:
        self.target, self.args = target, args

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return self.target, self.args


def _calling(module: str, name: str) -> bytes:
    """A protocol-4 pickle that calls ``module``'s ``name`` with no arguments."""

    def text(value: str) -> bytes:
        raw = value.encode()
        return b"\x8c" + bytes([len(raw)]) + raw  # SHORT_BINUNICODE

    return b"\x80\x04" + text(module) + text(name) + b"\x93" + b")" + b"R."  # STACK_GLOBAL, call


class _Recorder:
    """Counts how often an altered row made Steward call it."""

    calls = 0

    def __init__(self) -> None:
        _Recorder.calls += 1


def _record() -> None:
    _Recorder.calls += 1


@pytest.mark.parametrize("target", [_Recorder, _record], ids=["a class", "a function"])
def test_a_dotted_name_cannot_walk_out_of_stewards_modules(
    target: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Protocol 4 names a global by a dotted path: bot.core.failures imports pickle, so
    # ``pickle.<anything>`` would reach whatever that module holds (``os.system`` through
    # another). Found in review; dotted names are refused before anything is looked up.
    monkeypatch.setattr(pickle, "reached", target, raising=False)
    _Recorder.calls = 0
    with pytest.raises(pickle.UnpicklingError):
        read_event(_calling("bot.core.failures", "pickle.reached"))
    assert _Recorder.calls == 0


@pytest.mark.parametrize(
    "target",
    [
        os.getcwd,  # outside Steward
        read_event,  # a function of Steward's own core: still not part of an event
    ],
)
def test_an_altered_row_that_would_call_a_function_is_refused(target: object) -> None:
    data = pickle.dumps(_Calls(target, *(() if target is os.getcwd else (b"",))))
    with pytest.raises(pickle.UnpicklingError):
        read_event(data)


async def test_failures_wait_in_bounded_memory_while_the_database_is_away() -> None:
    class Away:
        async def __aenter__(self) -> None:
            raise ConnectionRefusedError("the database is away")

        async def __aexit__(self, *exc: object) -> None:
            return None

    home = CommunityRef("slack", "T1")
    failures = Failures(Away, FakeClock())  # type: ignore[arg-type]
    for n in range(MAX_WAITING + 5):
        left = MemberLeft(
            community=home, at=datetime(2026, 1, 5, tzinfo=UTC), user=UserRef(home, f"U{n}")
        )
        await failures.keep(
            error_id=f"e{n}", feature="f", listener="l", event=left, exc=OSError(), attempts=7
        )
    assert (failures.waiting, failures.dropped) == (MAX_WAITING, 5)
