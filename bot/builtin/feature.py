"""The built-in ``/steward`` feature: settings, features on and off, and help."""

from __future__ import annotations

from typing import Annotated, Any

from bot.builtin._failures import dismissed_text, failures_text, retried_text
from bot.builtin._fields import expected_form, parse_setting, settable, show_value
from bot.core.commands import CommandSpec
from bot.core.context import CommandContext, Context
from bot.core.errors import UserError
from bot.core.events import ForgetRequested
from bot.core.failures import listed
from bot.core.feature import Feature, command
from bot.core.ids import UserRef
from bot.core.members import Level, Member
from bot.core.message import Message, mention
from bot.core.registry import Registry
from bot.core.runtime import Runtime
from bot.core.settings import CommunitySettings, FeatureSettings, SettingsStore

FIELD_LIMIT = 1000
"""Characters per help field: Discord shows at most 1,024 in one embed field."""
CARD_FIELDS = 20
CARD_CHARS = 5000
"""A help card's fields and characters: one message (Discord: 25 fields, 6,000 characters)."""

FeatureName = Annotated[str, "Which feature, such as onboarding"]
Key = Annotated[str, "Which setting"]


class Steward(Feature, name="steward"):
    """Set Steward up: settings, features and help."""

    Settings = CommunitySettings
    always_on = True

    def __init__(self) -> None:
        self.registry: Registry | None = None
        self._runtime: Runtime | None = None

    def attach(self, runtime: Runtime) -> None:
        """Keep the runtime: ``/steward failures retry`` and ``dismiss`` act on kept events."""
        self._runtime = runtime

    def _feature(self, name: str, *, itself: bool = False) -> Feature:
        assert self.registry is not None, "the composition root binds the registry"
        found = self.registry.feature(name.strip().lower())
        if found is None or (found.name == self.name and not itself):
            names = ", ".join(f"`{f.name}`" for f in self._others())
            raise UserError(f"There is no feature called `{name[:40]}`. Features: {names}.")
        return found

    def _others(self) -> list[Feature]:
        assert self.registry is not None
        return [f for f in self.registry.features if f.name != self.name]

    @staticmethod
    def _key(feature: Feature, key: str) -> str:
        keys = settable(feature.Settings)
        key = key.strip().lower()
        if key not in keys:
            listing = ", ".join(f"`{k}`" for k in keys) or "none"
            raise UserError(f"{feature.name} has no setting `{key[:40]}`. Its settings: {listing}.")
        return key

    async def _load(
        self, ctx: CommandContext[FeatureSettings], feature: Feature
    ) -> FeatureSettings:
        return await SettingsStore.of(ctx.uow).get(ctx.community, feature.Settings, feature.name)

    async def _save(
        self, ctx: CommandContext[FeatureSettings], feature: Feature, value: FeatureSettings
    ) -> None:
        await SettingsStore.of(ctx.uow).put(ctx.community, feature.name, value, ctx.clock.now())

    @command("settings show", requires=Level.ADMIN)
    async def settings_show(
        self,
        ctx: CommandContext[FeatureSettings],
        feature: FeatureName,
        key: Annotated[str | None, "Only this setting"] = None,
    ) -> None:
        """Show a feature's settings for this community."""
        target = self._feature(feature, itself=True)
        current = await self._load(ctx, target)
        defaults = target.Settings()
        keys = [self._key(target, key)] if key else settable(target.Settings)
        fields = []
        for name in keys:
            info = target.Settings.model_fields[name]
            value = getattr(current, name)
            marker = " (default)" if value == getattr(defaults, name) else ""
            about = info.description or ""
            fields.append((name, f"{show_value(value)}{marker}\n{about}".strip()))
        state = "on" if current.enabled or target.always_on else "off"
        text = f"{target.name} is {state} here." if fields else f"{target.name} has no settings."
        await ctx.reply(Message(title=f"{target.name} settings", text=text, fields=tuple(fields)))

    @command("settings set", requires=Level.ADMIN)
    async def settings_set(
        self,
        ctx: CommandContext[FeatureSettings],
        feature: FeatureName,
        key: Key,
        value: Annotated[str, "The new value"],
    ) -> None:
        """Change one setting of a feature."""
        target = self._feature(feature, itself=True)
        name = self._key(target, key)
        current = await self._load(ctx, target)
        updated = parse_setting(target.Settings, current, name, value, ctx.community)
        await self._save(ctx, target, updated)
        await ctx.reply(f"{target.name} `{name}` is now {show_value(getattr(updated, name))}.")

    @command("settings reset", requires=Level.ADMIN)
    async def settings_reset(
        self, ctx: CommandContext[FeatureSettings], feature: FeatureName, key: Key
    ) -> None:
        """Put one setting back to its default."""
        target = self._feature(feature, itself=True)
        name = self._key(target, key)
        current = await self._load(ctx, target)
        data = current.model_dump()
        data.pop(name)
        updated = target.Settings.model_validate(data)
        await self._save(ctx, target, updated)
        shown = show_value(getattr(updated, name))
        await ctx.reply(f"{target.name} `{name}` is back to its default: {shown}.")

    @command("features", requires=Level.ADMIN)
    async def features(
        self,
        ctx: CommandContext[FeatureSettings],
        feature: Annotated[str | None, "The feature to switch"] = None,
        switch: Annotated[bool | None, "on or off"] = None,
    ) -> None:
        """See which features run here, and switch one on or off."""
        if feature is not None and switch is not None:
            target = self._feature(feature)
            current = await self._load(ctx, target)
            data = current.model_dump()
            data["enabled"] = switch
            await self._save(ctx, target, target.Settings.model_validate(data))
            word = "on" if switch else "off"
            await ctx.reply(f"{target.name} is now {word} in this community.")
            return
        if feature is not None:
            raise UserError(f"Say `on` or `off` too, like `/steward features {feature[:32]} on`.")
        lines = []
        for other in self._others():
            current = await self._load(ctx, other)
            state = "on" if current.enabled else "off"
            lines.append((other.name, f"{state}: {other.description}"))
        text = "Switch one with `/steward features <feature> on|off`."
        if not lines:
            text = "No features are loaded in this process."
        await ctx.reply(Message(title="Features", text=text, fields=tuple(lines)))

    @command("help")
    async def help(
        self,
        ctx: CommandContext[FeatureSettings],
        feature: Annotated[str | None, "Only this feature's commands"] = None,
    ) -> None:
        """What you can do with Steward here."""
        assert self.registry is not None
        targets = [self._feature(feature)] if feature else list(self.registry.features)
        fields = []
        for target in targets:
            if target.name != self.name:
                current = await self._load(ctx, target)
                if not current.enabled:
                    continue
            usable = [
                spec
                for spec in self.registry.commands(target.name)
                if ctx.actor.level >= spec.requires
            ]
            fields += _audience_fields(target.name, usable)
        if not fields:
            raise UserError("There is nothing you can run here yet.")
        cards = _cards(fields)
        for number, card in enumerate(cards, start=1):
            title = "Steward help" if len(cards) == 1 else f"Steward help ({number}/{len(cards)})"
            await ctx.reply(Message(title=title, fields=card))

    # -- failures ----------------------------------------------------------------------------

    @command("failures show", requires=Level.ADMIN)
    async def failures(self, ctx: CommandContext[FeatureSettings]) -> None:
        """Events Steward could not handle here even after retrying, latest first."""
        total, kept = await listed(ctx.uow.session, ctx.community)
        await ctx.reply(failures_text(total, kept))

    @command("failures retry", requires=Level.ADMIN)
    async def failures_retry(self, ctx: CommandContext[FeatureSettings]) -> None:
        """Hand the events Steward could not handle here to their features again."""
        assert self._runtime is not None, "the App attaches the runtime"
        await ctx.commit()  # each retry is a transaction of its own
        done, failing, busy = await self._runtime.failures.retry(ctx.community)
        await ctx.reply(retried_text(done, failing, busy))

    @command("failures dismiss", requires=Level.ADMIN)
    async def failures_dismiss(
        self,
        ctx: CommandContext[FeatureSettings],
        error: Annotated[str, "The error code /steward failures show gives, or all"],
    ) -> None:
        """Stop retrying an event Steward could not handle here, and drop it from the list."""
        assert self._runtime is not None, "the App attaches the runtime"
        code = error.strip().strip("`").lower()
        await ctx.commit()
        dropped = await self._runtime.failures.dismiss(
            ctx.community, None if code == "all" else code
        )
        await ctx.reply(dismissed_text(dropped, code))

    # -- forgetting --------------------------------------------------------------------------

    @command("forget me")
    async def forget_me(self, ctx: CommandContext[FeatureSettings]) -> None:
        """Delete what Steward stores about you here, in every feature."""
        self._forget(ctx, ctx.actor.ref)
        await ctx.reply(
            "Done: every feature deletes what it stored about you here. Steward keeps "
            "nothing about you beyond what you do from now on."
        )

    @command("forget member", requires=Level.ADMIN)
    async def forget_someone(
        self,
        ctx: CommandContext[FeatureSettings],
        member: Annotated[Member, "Whose data to delete (a deletion request)"],
    ) -> None:
        """Delete what Steward stores about a member, in every feature."""
        self._forget(ctx, member.ref)
        await ctx.reply(f"Done: every feature deletes what it stored about {mention(member.ref)}.")

    @staticmethod
    def _forget(ctx: CommandContext[FeatureSettings], user: UserRef) -> None:
        ctx.publish(ForgetRequested(community=ctx.community, at=ctx.clock.now(), user=user))

    async def forget_member(self, ctx: Context[Any], user: UserRef) -> None:
        """Steward's own settings name roles and channels, never members: nothing to forget."""


def _cards(fields: list[tuple[str, str]]) -> list[tuple[tuple[str, str], ...]]:
    """Help fields in cards that each fit one message: at most ``CARD_FIELDS`` fields and
    ``CARD_CHARS`` characters (Discord refuses an embed over 25 fields or 6,000 characters;
    Slack a message over 50 blocks), a feature's fields kept in order."""
    cards: list[list[tuple[str, str]]] = [[]]
    size = 0
    for name, value in fields:
        length = len(name) + len(value)
        if cards[-1] and (len(cards[-1]) >= CARD_FIELDS or size + length > CARD_CHARS):
            cards.append([])
            size = 0
        cards[-1].append((name, value))
        size += length
    return [tuple(card) for card in cards]


def _audience_fields(name: str, specs: list[CommandSpec]) -> list[tuple[str, str]]:
    """A feature's commands as help fields: everyone's apart from the staff's, so a manager
    sees which are theirs. A group too long for one field shows its subcommand groups apart
    (``moderation automod: staff``); only what still does not fit continues."""
    everyone = [s for s in specs if s.requires is Level.MEMBER]
    staff = [s for s in specs if s.requires is not Level.MEMBER]
    groups = [(name, "", everyone)] if not staff else [(name, "everyone", everyone)]
    if staff:
        groups.append((name, "staff", staff))
    fields = []
    for feature, audience, group in groups:
        for words, part in _parts(group):
            title = " ".join(w for w in (feature, words) if w)
            title = f"{title}: {audience}" if audience else title
            lines = [f"`{spec.usage}`: {spec.description}" for spec in part]
            for number, body in enumerate(_chunks(lines, FIELD_LIMIT)):
                fields.append((title if number == 0 else f"{title} (continued)", body))
    return fields


def _parts(specs: list[CommandSpec]) -> list[tuple[str, list[CommandSpec]]]:
    """The commands whole when they fit one field, else with each subcommand group apart."""
    lines = [f"`{spec.usage}`: {spec.description}" for spec in specs]
    if len("\n".join(lines)) <= FIELD_LIMIT:
        return [("", specs)]
    firsts = [spec.name.split()[0] for spec in specs if " " in spec.name]
    shared = {word for word in firsts if firsts.count(word) > 1}
    rest = [spec for spec in specs if spec.name.split()[0] not in shared or " " not in spec.name]
    apart = [
        (word, [spec for spec in specs if " " in spec.name and spec.name.split()[0] == word])
        for word in sorted(shared)
    ]
    return [("", rest), *apart] if rest else apart


def _chunks(lines: list[str], limit: int) -> list[str]:
    """Lines joined into blocks of at most ``limit`` characters, never splitting a line."""
    blocks: list[str] = []
    current: list[str] = []
    for line in lines:
        if current and len("\n".join([*current, line])) > limit:
            blocks.append("\n".join(current))
            current = []
        current.append(line[:limit])
    if current:
        blocks.append("\n".join(current))
    return blocks


__all__ = ["Steward", "expected_form"]
