"""The tests' one way of waiting for a condition (``tests.conftest.until``)."""

from __future__ import annotations

import pytest

from tests.conftest import until


async def test_it_returns_once_a_plain_or_async_check_comes_true() -> None:
    asked: list[int] = []

    def third() -> bool:
        asked.append(1)
        return len(asked) >= 3

    async def at_once() -> bool:
        return True

    await until(third, "the third time")
    await until(at_once, "at once")
    assert len(asked) == 3


async def test_it_fails_saying_what_never_came() -> None:
    async def never() -> bool:
        return False

    with pytest.raises(AssertionError, match="for: the welcome"):
        await until(never, "the welcome", within=0.05)
    still = ["nina", "omar"]
    with pytest.raises(AssertionError, match=r"for: welcomes: \['nina', 'omar'\]"):
        await until(lambda: not still, lambda: f"welcomes: {still}", within=0.05)
