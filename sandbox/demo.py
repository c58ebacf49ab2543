"""``steward sandbox``: Steward serving a fake Discord server and a fake Slack workspace at once.

Nothing leaves the machine: both fakes listen on 127.0.0.1, Steward talks to them through the
real discord.py and slack-bolt, and a script (or lines typed at the prompt) plays the people.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from bot.core.feature import Feature
from sandbox.discord.ids import StableSnowflakes
from sandbox.keep import Kept, save
from sandbox.scenario import PEOPLE, Community, open_both
from sandbox.script import Player, ScriptError, parse, parse_line

ROLES = ("mods", "greeters")  # a Discord role and a Slack user group each
WELCOME = """\
Steward sandbox: a fake Discord server and a fake Slack workspace on this machine, both served
by one Steward through the real discord.py and slack-bolt. Nothing is sent anywhere.

People: {people} (olivia owns it, ada is an admin). Channels: #general #welcome #intros #mods.
Roles (user groups on Slack): @mods @greeters ('bob gets @mods', 'bob loses @mods').
Features: {features}.

Try, one per line (Ctrl+D to stop):
  ada runs /steward features
  ada runs /steward help
  alice runs /steward help
  nina joins
  alice says Hello @bob in #general
  wait 2 days
  show dms of nina
Write 'on discord' or 'on slack' to act in one community only ('on both' again for both).
"""


async def run(
    database_url: str,
    features: Sequence[Feature],
    lines: Iterable[str] | None,
    out: Callable[[str], None] = print,
    files_dir: Path = Path("sandbox-files"),
    world: Path | None = None,
) -> int:
    """Play a script (or read the prompt when ``lines`` is None); 1 if a line failed, 2 if
    Steward sent a platform something its API description forbids (each is printed).

    Files people receive (charts, exports) are saved in ``files_dir`` and their paths printed.
    ``world``: the file the fakes' world is kept in for the next ``--keep``; when it holds one
    already, this sandbox goes on from it (same people and ids, same time)."""
    kept = Kept.read(world)
    snowflakes = StableSnowflakes()
    async with open_both(
        database_url,
        features,
        validate=_specs_available(),
        roles=ROLES,
        snowflakes=snowflakes,
        prepare=kept.prepare,
        start=kept.now,
    ) as (on_discord, on_slack):
        snowflakes.live()  # the seeded server keeps its ids; everything after is new
        communities: dict[str, Community] = {"discord": on_discord, "slack": on_slack}
        kept.rejoin(communities)
        if kept.now is not None:
            out(
                f"Going on from the kept sandbox: it is {kept.now:%a %b %d %H:%M} UTC; "
                f"people: {', '.join(kept.names())}."
            )
        try:
            return await _play(communities, features, lines, out, files_dir)
        finally:
            if world is not None:
                save(world, communities)


async def _play(
    communities: dict[str, Community],
    features: Sequence[Feature],
    lines: Iterable[str] | None,
    out: Callable[[str], None],
    files_dir: Path,
) -> int:
    player = Player(communities, out, files_dir)
    if lines is not None:
        try:
            steps = parse(lines)
        except ScriptError as exc:
            out(f"steward sandbox: {exc}")
            return 1
        await player.play(steps)
        violations = _violations(communities, out)
        return violations or (1 if player.failures else 0)
    out(
        WELCOME.format(
            people=", ".join(name for name, _ in PEOPLE),
            features=", ".join(f.name for f in features),
        )
    )
    number = 0
    lines_typed = _read_prompt_lines()
    while True:
        line = await lines_typed.get()
        if line is None:
            return _violations(communities, out)
        number += 1
        try:
            step = parse_line(number, line)
        except ScriptError as exc:
            out(str(exc))
            continue
        if step is not None:
            await player.play([step])


def _violations(communities: dict[str, Any], out: Callable[[str], None]) -> int:
    """Print what each fake found against its platform's API description; 2 if anything."""
    found = 0
    for platform, community in communities.items():
        for violation in community.fake.violations:
            out(f"[{platform}] spec violation: {violation}")
            found += 1
    return 2 if found else 0


def _read_prompt_lines() -> asyncio.Queue[str | None]:
    """Lines typed at the prompt, read by a daemon thread: on Ctrl+C the process leaves at once
    instead of waiting for a thread blocked in ``input()`` (the default executor would)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        while True:
            line = _prompt()
            loop.call_soon_threadsafe(queue.put_nowait, line)
            if line is None:
                return

    threading.Thread(target=read, name="sandbox-prompt", daemon=True).start()
    return queue


def _prompt() -> str | None:
    try:
        return input("sandbox> " if sys.stdin.isatty() else "")
    except (EOFError, OSError):
        return None


def _specs_available() -> bool:
    """Whether ../shared holds the API descriptions the fakes check traffic against."""
    from sandbox.discord import SpecNotFound, load_spec
    from sandbox.slack import SpecsNotFound, load_specs

    try:
        load_spec()
        load_specs()
    except (SpecNotFound, SpecsNotFound):
        return False
    return True
