"""The moderation feature: numbered cases, warnings and notes, from chat on both platforms."""

from __future__ import annotations

from typing import Annotated

from bot.core import CommandContext, Feature, Level, Member, command
from cogs.moderation import _cases, _texts
from cogs.moderation._authority import Act
from cogs.moderation._repo import Repo
from cogs.moderation.settings import ModerationSettings

Ctx = CommandContext[ModerationSettings]


class Moderation(Feature, name="moderation"):
    """Cases for every action, with the member told and the moderators' log kept."""

    Settings = ModerationSettings

    @command("warn", requires=Level.MOD)
    async def warn(
        self,
        ctx: Ctx,
        member: Annotated[Member, "Who to warn"],
        reason: Annotated[str, "Why (they will read it)"],
    ) -> None:
        """Warn a member: they are told why, and the warning counts on the ladder."""
        case = await _cases.act(ctx, Act.WARN, member, reason, ctx.settings.warn_points)
        await ctx.reply(f"Case #{case.number}: warned <@{member.ref.id}>.{_texts.delivered(case)}")

    @command("note", requires=Level.MOD)
    async def note(
        self,
        ctx: Ctx,
        member: Annotated[Member, "Who the note is about"],
        text: Annotated[str, "The note (only moderators read it)"],
    ) -> None:
        """Keep a note about a member; they are not told and it carries no points."""
        case = await _cases.act(ctx, Act.NOTE, member, text, 0)
        await ctx.reply(f"Case #{case.number}: note about <@{member.ref.id}> kept.")

    @command("case", requires=Level.MOD)
    async def case(self, ctx: Ctx, number: Annotated[int, "The case number"]) -> None:
        """Show one case in full, with everything done on it."""
        found = await _cases.find(ctx, number)
        history = await Repo(ctx.uow.session, ctx.community).history(found)
        await ctx.reply(_texts.detail(found, history))

    @command("cases", requires=Level.MOD)
    async def cases(
        self, ctx: Ctx, member: Annotated[Member | None, "Only this member's cases"] = None
    ) -> None:
        """List the newest cases, or one member's."""
        target = member.ref.id if member is not None else None
        rows = await Repo(ctx.uow.session, ctx.community).cases(target)
        if not rows:
            await ctx.reply("No cases yet.")
            return
        await ctx.reply("\n".join(_texts.summary(r) for r in rows))

    @command("reason", requires=Level.MOD)
    async def reason(
        self,
        ctx: Ctx,
        number: Annotated[int, "The case number"],
        text: Annotated[str, "The new reason"],
    ) -> None:
        """Change a case's reason (the old one stays in its history)."""
        case = await _cases.amend(ctx, number, reason=text)
        await ctx.reply(f"Case #{case.number}: reason changed.")

    @command("void", requires=Level.MOD)
    async def void(
        self,
        ctx: Ctx,
        number: Annotated[int, "The case number"],
        why: Annotated[str, "Why it no longer counts"],
    ) -> None:
        """Void a case: it stays on record but no longer counts."""
        case = await _cases.amend(ctx, number, void=why)
        await ctx.reply(f"Case #{case.number} is void; it stays on record but no longer counts.")
