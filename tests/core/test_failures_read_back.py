"""A kept event is read back as the event it was, and a row altered in the database can't make
Steward call anything: only the classes an event is made of are accepted."""

from __future__ import annotations

import os
import pickle
from datetime import UTC, datetime

import pytest

from bot.core.events import MemberJoined
from bot.core.failures import read_event
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
