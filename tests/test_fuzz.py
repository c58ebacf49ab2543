"""The fuzz targets of ``bench/fuzz`` for a moment each: a short run in the suite.

``python -m bench.fuzz`` runs them coverage-guided for a minute each; here hypothesis feeds each
target its seeds, random bytes and seeds with bytes spliced in. A target fails on any exception
but the parser's friendly error, and on an active mention in text Steward would send.
"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.fuzz.kernel import _private, _spellings, addresses
from bench.fuzz.targets import ACTIVE, SEEDS, TARGETS, fields
from bot.core.guard import AddressPolicy


def _inputs(name: str) -> st.SearchStrategy[bytes]:
    spliced = st.builds(
        lambda seed, at, extra: seed[:at] + extra + seed[at:],
        st.sampled_from(SEEDS[name]),
        st.integers(0, 300),
        st.binary(max_size=40),
    )
    return st.one_of(st.binary(max_size=400), spliced)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_a_short_fuzz_run_finds_nothing(name: str) -> None:
    target = TARGETS[name]
    for seed in SEEDS[name]:
        target(seed)

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_inputs(name))
    def run(data: bytes) -> None:
        target(data)

    run()


def test_the_mention_check_sees_every_active_form() -> None:
    for active in ("@everyone", "@HERE", "@channel", "＠everyone", "<@U1>", "<@&1>", "<!here>"):
        assert ACTIVE.search(f"hi {active}!"), active
    for inert in ("@\u200beveryone", "<\u200b@U1>", "&lt;!here&gt;", "<#C1>", "@alice"):
        assert not ACTIVE.search(inert), inert
    assert fields(b"a\0b\0c\0d", 3) == ["a", "b", "c\x00d"]
    assert fields(b"\xff", 2) == ["\ufffd", ""]


def test_the_address_target_sees_every_spelling_of_a_private_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for spelled in ("2130706433", "0x7f.1", "017700000001", "127.1"):
        assert "127.0.0.1" in _spellings(spelled), spelled
    assert "::ffff:10.0.0.1" in _spellings("::ffff:a00:1")
    private = ("10.0.0.1", "::ffff:169.254.169.254", "64:ff9b::7f00:1", "2002:a00:1::", "fd00::1")
    for address in private:
        assert _private(ipaddress.ip_address(address)), address
    assert not _private(ipaddress.ip_address("8.8.8.8"))
    assert not _private(ipaddress.ip_address("2002:808:808::"))
    # With a guard that lets everything through, the target fails on its own seeds.
    monkeypatch.setattr(AddressPolicy, "check", lambda self, host, port: None)
    with pytest.raises(AssertionError, match=r"is 127\.0\.0\.1, private, and was allowed"):
        addresses(b"\x00127.0.0.1")
    with pytest.raises(AssertionError, match="and was allowed"):
        addresses(b"\x010x7f.1")
