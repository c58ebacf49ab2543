"""Folding text before blocked words are looked for: case, accents, look-alikes, leetspeak."""

from __future__ import annotations

import unicodedata

# Letters from other scripts that look like Latin ones; each maps to the letter it imitates.
_LOOKALIKES = str.maketrans(
    {
        "а": "a",
        "е": "e",
        "о": "o",
        "р": "p",
        "с": "c",
        "у": "y",
        "х": "x",
        "і": "i",
        "ј": "j",
        "ѕ": "s",
        "к": "k",
        "м": "m",
        "т": "t",
        "в": "b",
        "н": "h",
        "α": "a",
        "ε": "e",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "ι": "i",
        "κ": "k",
        "ν": "v",
    }
)
# Digits and signs people put in place of letters to slip past a word list.
_LEET = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "8": "b",
        "9": "g",
        "@": "a",
        "$": "s",
        "!": "i",
        "|": "l",
        "+": "t",
        "€": "e",
        "£": "l",
    }
)
# The same substitutions for ASCII text as a byte table: ``bytes.translate`` is many times
# faster than ``str.translate`` with a dictionary, and the screen hands RE2 bytes anyway.
_ASCII_LEET = {k: v for k, v in _LEET.items() if k < 128}
_LEET_BYTES = bytes.maketrans(bytes(_ASCII_LEET), "".join(_ASCII_LEET.values()).encode())


def fold(text: str) -> str:
    """``text`` lower-cased, accents dropped, look-alike letters mapped to plain ones."""
    if text.isascii():
        return text.lower()
    # NFKD splits "é" into "e" and a combining accent, and full-width or styled letters
    # ("𝐬𝐩𝐚𝐦") into plain ones; the marks are then dropped.
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return plain.casefold().translate(_LOOKALIKES)


def unleet(folded: str) -> str:
    """Folded text with leetspeak read as letters ("5p@m" -> "spam"); itself when there is none."""
    return folded.translate(_LEET)


def encoded_forms(text: str) -> tuple[bytes, bytes, bytes]:
    """``text``, ``fold(text)`` and ``unleet(fold(text))``, each encoded as UTF-8 (for RE2)."""
    if text.isascii():
        raw = text.encode("ascii")
        folded = raw.lower()  # ASCII only: the same as str.lower() on ASCII text
        return raw, folded, folded.translate(_LEET_BYTES)
    # A lone surrogate (JSON can carry one) cannot be UTF-8: it reads as "?" rather than failing
    # the message's screening.
    plain = fold(text)
    leet = unleet(plain)
    return (
        text.encode(errors="replace"),
        plain.encode(errors="replace"),
        leet.encode(errors="replace"),
    )
