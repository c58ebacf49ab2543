"""A form's fields and a select's picks read from the interaction's raw data, whatever its shape
(found by ``bench.fuzz``, target ``discord_forms``): a row that is no object, a value that is no
text, ``components`` that is no list are skipped, never a crash before the member's answer."""

from __future__ import annotations

from bot.adapters.discord.convert import form_fields, picked


def test_a_form_in_rows_or_labels_reads_every_text_input() -> None:
    data = {
        "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": "reason", "value": "spam"}]},
            {"type": 18, "component": {"type": 4, "custom_id": "note", "value": "hi"}},
        ]
    }
    assert form_fields(data) == {"reason": "spam", "note": "hi"}


def test_odd_shapes_are_skipped() -> None:
    assert form_fields({"components": "x"}) == {}
    assert form_fields({"components": ["row", 3, None]}) == {}
    assert form_fields({"components": [{"components": 7}]}) == {}
    assert form_fields({"components": [{"components": ["x", {"custom_id": 5}]}]}) == {}
    assert form_fields({"components": [{"components": [{"custom_id": "a", "value": 1}]}]}) == {
        "a": ""
    }
    assert picked({"values": ["a", 2, "b"]}) == ("a", "b")
    assert picked({"values": 1.5}) == ()
    assert picked({}) == ()
