"""Automod rules managed from chat: admins add, remove, switch dry run and exempt; moderators
list and test. Mixed into the feature (its commands are the feature's commands)."""

from __future__ import annotations

from typing import Annotated, Literal

from bot.core import ChannelRef, CommandContext, Level, RoleRef, command
from cogs.moderation import _automod_admin
from cogs.moderation._choices import Does, Kind
from cogs.moderation._rules import Action, RuleKind
from cogs.moderation._screening import Screening
from cogs.moderation.settings import ModerationSettings

Ctx = CommandContext[ModerationSettings]


class AutomodCommands:
    """``/moderation automod ...``."""

    screening: Screening

    @command("automod add", requires=Level.ADMIN)
    async def automod_add(
        self,
        ctx: Ctx,
        kind: Annotated[Kind, "What the rule looks for"],
        value: Annotated[
            str, "The word, pattern, domains, limit (5) or rate (5 in 10s); - for invites"
        ],
        action: Annotated[Does, "What it does when it fires"] = "alert",
        points: Annotated[int, "Points a warning carries"] = 1,
    ) -> None:
        """Add an automod rule; it starts in dry run, recording what it would do."""
        rule = await _automod_admin.add(ctx, RuleKind(kind), value, Action(action), points)
        self.screening.forget(ctx.community.key)
        await ctx.reply(
            f"Saved {_automod_admin.describe(rule, ctx.community)}. It starts in dry run; "
            f"`/moderation automod dryrun {rule.id} off` makes it act."
        )

    @command("automod list", requires=Level.MOD)
    async def automod_list(self, ctx: Ctx) -> None:
        """The automod rules, with what each does."""
        rows = await _automod_admin.rules(ctx)
        lines = [_automod_admin.describe(_automod_admin.to_rule(r), ctx.community) for r in rows]
        await ctx.reply("\n".join(lines) or "No automod rules yet.")

    @command("automod remove", requires=Level.ADMIN)
    async def automod_remove(self, ctx: Ctx, rule: Annotated[int, "The rule's number"]) -> None:
        """Remove an automod rule."""
        row = await _automod_admin.find(ctx, rule)
        await ctx.uow.session.delete(row)
        self.screening.forget(ctx.community.key)
        await ctx.reply(f"Rule #{rule} removed.")

    @command("automod dryrun", requires=Level.ADMIN)
    async def automod_dryrun(
        self,
        ctx: Ctx,
        rule: Annotated[int, "The rule's number"],
        state: Annotated[Literal["on", "off"], "on: record only; off: act"],
    ) -> None:
        """Switch a rule between dry run (it only records) and acting."""
        row = await _automod_admin.find(ctx, rule)
        row.dry_run = state == "on"
        self.screening.forget(ctx.community.key)
        await ctx.reply(_automod_admin.describe(_automod_admin.to_rule(row), ctx.community))

    @command("automod exempt", requires=Level.ADMIN)
    async def automod_exempt(
        self,
        ctx: Ctx,
        rule: Annotated[int, "The rule's number"],
        state: Annotated[Literal["on", "off"], "on: spare them; off: screen them again"],
        role: Annotated[RoleRef | None, "Members with this role"] = None,
        channel: Annotated[ChannelRef | None, "Messages in this channel"] = None,
    ) -> None:
        """Spare a role's members or a channel from a rule (or stop sparing them)."""
        changed = await _automod_admin.exempt(ctx, rule, state == "on", role, channel)
        self.screening.forget(ctx.community.key)
        await ctx.reply(_automod_admin.describe(changed, ctx.community))

    @command("automod test", requires=Level.MOD)
    async def automod_test(self, ctx: Ctx, text: Annotated[str, "A message to try"]) -> None:
        """Which rules a message would fire, and why (nothing is recorded)."""
        lines = await _automod_admin.test(ctx, text)
        await ctx.reply("\n".join(lines) or "No rule would fire on that.")
