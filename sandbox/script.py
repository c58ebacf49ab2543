"""Scripts for ``steward sandbox``: people acting, one line each, and what each of them saw.

The format, one action per line (``#`` starts a comment)::

    on discord | on slack | on both        which communities the next lines act in (default both)
    nina joins                             a new member joins
    alice says Hello everyone! in #intros  a message (``in #channel`` is optional: #general)
    ada runs /steward features desk off    a slash command, typed as on Slack
    bob clicks yes                         the button with that action, in what bob can see
    bob picks red, blue in pick            options in the select with that action (by label)
    alice fills text=Lovely, more=yes      the form alice has open (``key=value``, comma-separated)
    bob replies Welcome! to nina           a reply to nina's last message (a thread on Slack)
    bob reacts 👍 to nina                  a reaction on nina's last message
    bob starts a thread Plans on nina      a thread on nina's last message (Slack: a first reply)
    nina deletes                           nina deletes her last message
    nina leaves                            nina leaves (on Slack: her account is deactivated)
    bob gets @mods / bob loses @mods       a role on Discord, a user group on Slack
    wait 3 days                            time passes once for both (minutes ... weeks)
    show dms of nina                       print the DMs Steward sent nina
    show #general                          print a channel

In commands, ``@name`` is a person and ``#name`` a channel, on either platform.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.adapters.slack.commands import match, parse_args, tokenize
from bot.core.errors import UserError
from bot.core.ids import ChannelRef, CommunityRef, RoleRef, UserRef
from bot.core.message import plural
from sandbox.controls import controls_of
from sandbox.scenario import Community, Person, Posted, Seen, replies

_WAIT = re.compile(
    r"^wait\s+(\d+)\s*(minute|minutes|min|m|hour|hours|h|day|days|d|week|weeks|w)$", re.I
)
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}


VERBS = frozenset(
    {
        "joins", "says", "replies", "reacts", "deletes", "leaves", "runs", "clicks", "picks",
        "fills", "gets", "loses", "starts",
    }
)  # fmt: skip
_REPLY = re.compile(r"^(?P<text>.+?)\s+to\s+@?(?P<whom>[\w-]+)$")
_THREAD = re.compile(r"^a thread\s+(?P<name>.+?)\s+on\s+@?(?P<whom>[\w-]+)$")
_REACT = re.compile(r"^(?P<emoji>\S+)\s+to\s+@?(?P<whom>[\w-]+)$")


class ScriptError(ValueError):
    """A line the sandbox cannot understand; the message says how to write it."""


@dataclass
class Step:
    """One parsed line."""

    number: int
    verb: str
    who: str
    rest: str


def parse_line(number: int, line: str) -> Step | None:
    """Parse one line; None for blanks and comments."""
    text = line.split(" # ", 1)[0].strip()
    if not text or text.startswith("#"):
        return None
    lower = text.lower()
    if lower.startswith("on "):
        return Step(number, "on", "", lower[3:].strip())
    if _WAIT.match(text):
        return Step(number, "wait", "", text)
    if lower.startswith("show "):
        return Step(number, "show", "", text[5:].strip())
    who, _, rest = text.partition(" ")
    verb, _, rest = rest.strip().partition(" ")
    verb = verb.lower()
    if verb not in VERBS:
        raise ScriptError(
            f"line {number}: I don't know how to '{verb or text}'. "
            "Use joins, says, replies, reacts, starts, deletes, leaves, runs, clicks, picks, "
            "fills, gets, loses, wait, show or on."
        )
    return Step(number, verb, who.lower(), rest.strip())


def parse(lines: Iterable[str]) -> list[Step]:
    """Parse a whole script, reporting the first bad line."""
    steps = []
    for number, line in enumerate(lines, start=1):
        step = parse_line(number, line)
        if step is not None:
            steps.append(step)
    return steps


def _last_number(folder: Path) -> int:
    """The highest ``NNN-`` prefix among the files already in ``folder`` (0 when none)."""
    numbers = [int(p.name[:3]) for p in folder.iterdir() if p.name[:3].isdigit()]
    return max(numbers, default=0)


class Player:
    """Plays steps in one or more communities and reports what each person saw."""

    def __init__(
        self,
        communities: dict[str, Community],
        out: Callable[[str], None],
        files_dir: Path = Path("sandbox-files"),
    ) -> None:
        self.communities = communities
        self.files_dir = files_dir
        self.saved = 0
        self.active = list(communities)
        self.out = out
        self.seen: dict[tuple[str, str], list[Seen]] = {}
        self.public: dict[str, list[Seen]] = {}
        self.failures = 0

    async def play(self, steps: Iterable[Step]) -> None:
        """Run every step; a step that fails is reported and the script goes on."""
        for step in steps:
            if step.verb in ("on", "wait"):
                try:
                    await (self._wait(step) if step.verb == "wait" else self._switch(step))
                except ScriptError as exc:
                    self._failed(str(exc))
                continue
            for platform in self.active:
                try:
                    await self._do(platform, self.communities[platform], step)
                except (UserError, ScriptError, LookupError, AssertionError) as exc:
                    message = exc.message if isinstance(exc, UserError) else str(exc)
                    self._failed(f"[{platform}] line {step.number}: {message}")
                except Exception as exc:  # the fake refused, as the platform would: say so, go on
                    self._failed(f"[{platform}] line {step.number}: the platform refused: {exc}")

    def _failed(self, message: str) -> None:
        self.failures += 1
        self.out(message)

    async def _switch(self, step: Step) -> None:
        wanted = list(self.communities) if step.rest == "both" else [step.rest]
        unknown = [p for p in wanted if p not in self.communities]
        if unknown:
            raise ScriptError(
                f"line {step.number}: there is no '{step.rest}' here; "
                "'on' takes discord, slack or both"
            )
        self.active = wanted

    def _person(self, community: Community, name: str) -> Person:
        person = community.people.get(name.lstrip("@"))
        if person is None:
            known = ", ".join(sorted(community.people))
            raise ScriptError(f"nobody called {name} here (people: {known}; add one with 'joins')")
        return person

    def _show(self, platform: str, community: Community, who: str, seen: Seen) -> None:
        if seen.form is not None and not seen.texts:
            title = seen.form.get("title")
            name = title.get("text") if isinstance(title, dict) else title
            self.out(f"[{platform}] {who} sees a form: {name}")
        for text in seen.texts:
            scope = "only " + who + " sees" if seen.ephemeral else "everyone sees"
            self.out(f"[{platform}] {scope}: {community.readable(text)}")
        for message in seen.messages:
            self._controls(platform, message)

    def _controls(self, platform: str, raw: Any) -> None:
        """Print the buttons and menus on a message, with the words that act on them, and save
        its files to the files folder, printing where."""
        for control in controls_of(raw):
            self.out(f"[{platform}]   {control.describe()}")
        for name, data in self.communities[platform].files_of(raw):
            self.files_dir.mkdir(parents=True, exist_ok=True)
            if self.saved == 0:  # go on after an earlier run's files, never over them
                self.saved = _last_number(self.files_dir)
            self.saved += 1
            path = self.files_dir / f"{self.saved:03d}-{platform}-{Path(name).name}"
            path.write_bytes(data)
            self.out(f"[{platform}]   [file {name}: saved to {path}]")

    async def _wait(self, step: Step) -> None:
        """Time passes once for everyone: communities served by one Steward share its clock, so
        the clock moves once, then each platform prints what each person got meanwhile."""
        match_ = _WAIT.match(step.rest)
        assert match_ is not None
        count, unit = int(match_.group(1)), match_.group(2).lower()
        unit = _UNITS.get(unit, unit if unit.endswith("s") else unit + "s")
        clocks = {id(self.communities[p].clock) for p in self.active}
        touched = {p: c for p, c in self.communities.items() if id(c.clock) in clocks}
        before = {p: _inbox(c) for p, c in touched.items()}
        moved: set[int] = set()
        for community in touched.values():
            if id(community.clock) not in moved:
                moved.add(id(community.clock))
                await community.advance(**{unit: float(count)})
        for community in touched.values():
            await community.settle()
        said = f"{count} {unit[:-1]} passes" if count == 1 else f"{count} {unit} pass"
        for platform, community in touched.items():
            self.out(f"[{platform}] {said}")
            self._report_new(platform, community, before[platform])

    def _report_new(
        self,
        platform: str,
        community: Community,
        before: dict[str, int],
        shown: Iterable[Any] = (),
    ) -> None:
        """Print the DMs each person got, and the channel posts, since ``before`` (but not the
        messages in ``shown``, already printed)."""
        skip = {id(raw) for raw in shown}
        for name, person in community.people.items():
            for message in community.dms_of(person)[before.get("@" + name, 0) :]:
                if id(message.raw) in skip:
                    continue
                text = community.readable(message.text)
                if text:
                    self.out(f"[{platform}] {name} gets a DM: {text}")
                else:
                    files = len(community.files_of(message.raw))
                    what = f"{plural(files, 'file')} by DM" if files else "an empty DM"
                    self.out(f"[{platform}] {name} gets {what}")
                self._controls(platform, message.raw)
        for channel in community.channel_names():
            for message in community.everything_in(channel)[before.get("#" + channel, 0) :]:
                if id(message.raw) in skip:
                    continue
                author = community.name_of(message.author_id)
                where = f"a thread in #{channel}" if _in_thread(message) else f"#{channel}"
                self.out(f"[{platform}] {author} in {where}: {community.readable(message.text)}")
                self._controls(platform, message.raw)

    async def _do(self, platform: str, community: Community, step: Step) -> None:
        if step.verb == "show":
            self._show_what(platform, community, step.rest)
            return
        if step.verb == "joins":
            before = _inbox(community)
            await community.member_joins(step.who)
            self.out(f"[{platform}] {step.who} joined")
            self._report_new(platform, community, before)
            return
        person = self._person(community, step.who)
        before = _inbox(community)
        if step.verb in ("replies", "reacts", "starts", "deletes", "leaves", "gets", "loses"):
            posted = await self._act(platform, community, person, step)
            self._report_new(platform, community, before, posted)
            return
        if step.verb == "says":
            text, channel = step.rest, "general"
            found = re.search(r"\s+in\s+#([\w-]+)$", text)
            if found:
                text, channel = text[: found.start()], found.group(1)
            posted = await community.says(person, self._mentions(community, text), channel)
            self.out(f"[{platform}] {step.who} in #{channel}: {community.readable(posted.text)}")
            self._report_new(platform, community, before, [posted.raw])
            return
        if step.verb == "runs":
            seen = await self._run(community, person, step.rest)
        elif step.verb == "clicks":
            where = self._showing(platform, step.who, step.rest)
            seen = await community.click(person, where, step.rest)
        elif step.verb == "picks":
            values, _, action = step.rest.rpartition(" in ")
            if not values:
                raise ScriptError(f"line {step.number}: write 'picks red, blue in <action>'")
            picked = [v.strip() for v in values.split(",") if v.strip()]
            where = self._showing(platform, step.who, action)
            seen = await community.select(person, where, action, picked)
        else:
            fields = dict(
                pair.split("=", 1)
                for pair in (p.strip() for p in step.rest.split(","))
                if "=" in pair
            )
            seen = await community.submit(person, self._last(platform, step.who), fields)
        self.seen.setdefault((platform, step.who), []).append(seen)
        if not seen.ephemeral and seen.texts:
            self.public.setdefault(platform, []).append(seen)
        self._show(platform, community, step.who, seen)
        self._report_new(platform, community, before, seen.messages)

    async def _act(
        self, platform: str, community: Community, person: Person, step: Step
    ) -> list[Any]:
        """The verbs that act on a message, on a role, or on the community itself."""
        if step.verb in ("gets", "loses"):
            role = step.rest.removeprefix("role ").strip().lstrip("@")
            if role not in community.role_names():
                known = " ".join("@" + name for name in community.role_names())
                raise ScriptError(f"there is no role @{role} here (roles: {known})")
            await community.set_role(person, role, has=step.verb == "gets")
            now = "now has" if step.verb == "gets" else "no longer has"
            self.out(f"[{platform}] {person.name} {now} @{role}")
        elif step.verb == "leaves":
            await community.leaves(person)
            community.people.pop(person.name, None)
            self.out(f"[{platform}] {person.name} left")
        elif step.verb == "deletes":
            message = self._latest_by(community, person.name)
            await community.deletes(person, message)
            self.out(f"[{platform}] {person.name} deleted: {community.readable(message.text)}")
        elif step.verb == "starts":
            found = _THREAD.match(step.rest)
            if found is None:
                raise ScriptError(
                    f"line {step.number}: write '{person.name} starts a thread Plans on bob'"
                )
            message = self._latest_by(community, found["whom"])
            what = await community.starts_thread(person, message, found["name"])
            self.out(f"[{platform}] {person.name} started a {what}")
        elif step.verb == "reacts":
            found = _REACT.match(step.rest)
            if found is None:
                raise ScriptError(f"line {step.number}: write '{person.name} reacts 👍 to bob'")
            message = self._latest_by(community, found["whom"])
            await community.reacts(person, message, found["emoji"])
            self.out(f"[{platform}] {person.name} reacted {found['emoji']} to {found['whom']}")
        else:
            found = _REPLY.match(step.rest)
            if found is None:
                raise ScriptError(f"line {step.number}: write '{person.name} replies Hi! to bob'")
            message = self._latest_by(community, found["whom"])
            text = self._mentions(community, found["text"])
            posted = await replies(community, person, message, text)
            self.out(
                f"[{platform}] {person.name} replied to {found['whom']}: "
                f"{community.readable(posted.text)}"
            )
            return [posted.raw]
        return []

    @staticmethod
    def _latest_by(community: Community, name: str) -> Posted:
        """The last message someone posted in the channels (Steward counts too)."""
        found = [
            m
            for channel in community.channel_names()
            for m in community.everything_in(channel)
            if community.name_of(m.author_id).lower() == name.lower()
        ]
        if not found:
            raise ScriptError(f"{name} has posted nothing here to act on")
        return max(found, key=lambda m: community.posted_order(m))

    def _showing(self, platform: str, who: str, action: str) -> Seen | Posted:
        """The latest thing the person can see with a component with this action: what they
        were shown, then their DMs, then the channels' messages."""
        community = self.communities[platform]
        mine = self.seen.get((platform, who), [])
        places: list[Seen | Posted] = [*reversed(mine), *reversed(self.public.get(platform, []))]
        person = community.people.get(who)
        if person is not None:
            places += reversed(community.dms_of(person))
        for channel in community.channel_names():
            places += reversed(community.everything_in(channel))
        for place in places:
            if community.offers(place, action):
                return place
        raise ScriptError(f"{who} can't see anything with '{action}' to act on")

    def _last(self, platform: str, who: str) -> Seen:
        """What the person last saw, or else the last thing everyone saw."""
        mine = self.seen.get((platform, who)) or self.public.get(platform)
        if not mine:
            raise ScriptError(f"{who} hasn't been shown anything to act on yet")
        return mine[-1]

    @staticmethod
    def _mentions(community: Community, text: str) -> str:
        def person(m: re.Match[str]) -> str:
            found = community.people.get(m.group(1).lower())
            return community.mention(found) if found else m.group(0)

        def channel(m: re.Match[str]) -> str:
            try:
                return community.channel_mention(m.group(1))
            except (KeyError, LookupError, ValueError):
                return m.group(0)

        def role(m: re.Match[str]) -> str:
            if m.group(1) in community.role_names():
                return community.role_mention(m.group(1))
            return person(m)

        text = re.sub(r"(?<![<\w])@([A-Za-z][\w-]*)", role, text)
        return re.sub(r"(?<![<\w])#([A-Za-z][\w-]*)", channel, text)

    async def _run(self, community: Community, person: Person, line: str) -> Seen:
        line = line.strip()
        if not line.startswith("/"):
            raise ScriptError("write a command as it is typed, starting with /")
        feature, _, text = line[1:].partition(" ")
        specs = community.app.registry.commands(feature)
        if not specs:
            raise ScriptError(f"there is no /{feature} command here")
        text = self._mentions(community, text)
        tokens = tokenize(text)
        found = match(specs, tokens)
        if found is None:
            names = ", ".join(sorted({spec.name for spec in specs}))
            raise ScriptError(f"/{feature} has no command like that; it has: {names}")
        spec, used = found
        where = CommunityRef(community.app_platform, "sandbox")
        options: dict[str, Any] = {}
        for name, value in parse_args(spec, text, tokens[used:], where).items():
            if isinstance(value, UserRef):
                known = [p for p in community.people.values() if p.id == value.id]
                options[name] = known[0] if known else value.id
            elif isinstance(value, ChannelRef):
                options[name] = "#" + community.channel_name(value.id)
            elif isinstance(value, RoleRef):
                options[name] = "@" + community.role_name(value.id)
            else:
                options[name] = value
        return await community.slash(person, f"{feature} {spec.name}", **options)

    def _show_what(self, platform: str, community: Community, what: str) -> None:
        if what.startswith("dms of "):
            person = self._person(community, what[len("dms of ") :].strip())
            messages = community.dms_of(person)
            self.out(f"[{platform}] DMs of {person.name}: {len(messages)}")
        elif what.startswith("#"):
            if what[1:] not in community.channel_names():
                known = " ".join("#" + name for name in community.channel_names())
                raise ScriptError(f"there is no channel {what} here (channels: {known})")
            messages = community.messages_in(what[1:])
            self.out(f"[{platform}] #{what[1:]}: {plural(len(messages), 'message')}")
        else:
            raise ScriptError("show takes 'dms of <name>' or '#channel'")
        for message in messages:
            self.out(f"[{platform}]   {community.readable(message.text)}")
            self._controls(platform, message.raw)


def _inbox(community: Community) -> dict[str, int]:
    """How many DMs each person (``@name``) and posts each channel (``#name``) hold now."""
    counts = {"@" + name: len(community.dms_of(p)) for name, p in community.people.items()}
    for channel in community.channel_names():
        counts["#" + channel] = len(community.everything_in(channel))
    return counts


def _in_thread(message: Posted) -> bool:
    """A Slack thread reply (Discord replies are plain channel messages)."""
    thread_ts = getattr(message.raw, "thread_ts", None)
    return bool(thread_ts) and thread_ts != getattr(message.raw, "ts", None)
