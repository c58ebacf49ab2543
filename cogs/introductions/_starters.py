"""Interests by name as the matcher and the introduction read them, and the managers' starters,
general and per interest (pure).

Starters are kept one a line; a starter for one interest is written ``interest<TAB>text`` (a
starter's text never holds a tab: its spaces are collapsed when it is added).
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.templates import neutralize_pings

SEPARATOR = "\t"


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


class Vocabulary:
    """Interest names numbered for one round or one group (case and spacing ignored)."""

    def __init__(self, names: Iterable[str]) -> None:
        shown: dict[str, str] = {}
        for name in names:
            shown.setdefault(_key(name), " ".join(name.split()))
        self._ids = {key: i for i, key in enumerate(sorted(shown))}
        self._names = {self._ids[key]: neutralize_pings(name) for key, name in shown.items()}

    def ids(self, names: Iterable[str]) -> frozenset[int]:
        """The numbers of these names (names not in the vocabulary left out)."""
        return frozenset(self._ids[k] for k in map(_key, names) if k in self._ids)

    def id_of(self, name: str) -> int | None:
        """The number of one name."""
        return self._ids.get(_key(name))

    def labels(self) -> dict[int, str]:
        """Number -> the name as shown (never a ping)."""
        return dict(self._names)


def starters(text: str, vocabulary: Vocabulary) -> tuple[list[str], dict[int, list[str]]]:
    """The general starters, and the starters of each interest in the vocabulary."""
    general: list[str] = []
    themed: dict[int, list[str]] = {}
    for line in text.splitlines():
        interest, sep, starter = line.partition(SEPARATOR)
        if not sep:
            if line.strip():
                general.append(line.strip())
            continue
        found = vocabulary.id_of(interest)
        if found is not None and starter.strip():
            themed.setdefault(found, []).append(starter.strip())
    return general, themed


def starter_line(text: str, interest: str | None) -> str:
    """How one starter is stored."""
    text = " ".join(text.split())
    return f"{' '.join(interest.split())}{SEPARATOR}{text}" if interest else text
