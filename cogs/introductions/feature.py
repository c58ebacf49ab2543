"""The introductions feature: members opt in and meet a few others each round, privately."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from bot.core import (
    CommandContext,
    Context,
    Feature,
    JobContext,
    Level,
    Member,
    MemberJoined,
    MemberLeft,
    MessagePosted,
    PlatformReady,
    Pressed,
    UserError,
    UserRef,
    command,
    component,
    mention,
    on,
    timer,
)
from cogs.introductions import _admin, _thanks
from cogs.introductions._repo import MODS, Repo
from cogs.introductions._rounds import Answer
from cogs.introductions._service import ROUND_KEY, Rounds
from cogs.introductions._starters import starter_line
from cogs.introductions._talk import Said, pairs_joined
from cogs.introductions._texts import ANSWERED
from cogs.introductions.settings import IntroductionsSettings
from cogs.onboarding.events import InterestsChosen, OnboardingFinished

Ctx = CommandContext[IntroductionsSettings]
Listen = Context[IntroductionsSettings]
Job = JobContext[IntroductionsSettings]


class Introductions(Feature, name="introductions"):
    """Introduce members who haven't met, in small private groups, round after round."""

    Settings = IntroductionsSettings
    port_calls = frozenset({"open_group", "channel_members"})

    # -- what members do ---------------------------------------------------------------------

    @command("join")
    async def join(self, ctx: Ctx) -> None:
        """Join the introductions pool (or come back from a pause)."""
        if await Rounds(ctx).join(ctx.actor.ref.id):
            await ctx.reply("You're in! You'll be introduced to someone in the next round.")
        else:
            await ctx.reply("You're already in the introductions pool.")

    @command("leave")
    async def leave(self, ctx: Ctx) -> None:
        """Leave the introductions pool."""
        if await Rounds(ctx).leave(ctx.actor.ref.id):
            await ctx.reply(
                "You've left the introductions pool. Come back with `/introductions join`."
            )
        else:
            await ctx.reply("You're not in the introductions pool.")

    @command("pause")
    async def pause(
        self,
        ctx: Ctx,
        rounds: Annotated[int | None, "How many rounds to skip (none: until you come back)"] = None,
    ) -> None:
        """Skip some rounds without leaving the pool."""
        if rounds is not None and not 1 <= rounds <= 52:
            raise UserError(
                "Pause for 1 to 52 rounds, or leave the number out to pause until you're back."
            )
        await ctx.reply(await Rounds(ctx).pause(ctx.actor.ref.id, rounds))

    @command("me")
    async def me(self, ctx: Ctx) -> None:
        """Your place in the pool and whom you're meeting this round (only you see it)."""
        await ctx.reply(await Rounds(ctx).status(ctx.actor.ref.id))

    @command("avoid")
    async def avoid(
        self, ctx: Ctx, member: Annotated[Member, "Who you'd rather not be paired with"]
    ) -> None:
        """Never be paired with this member (private: nobody is told)."""
        if member.ref.id == ctx.actor.ref.id:
            raise UserError("You're never paired with yourself.")
        repo = Repo(ctx.uow.session, ctx.community)
        await repo.avoid(ctx.actor.ref.id, ctx.actor.ref.id, member.ref.id, ctx.clock.now())
        await ctx.reply(
            f"Done: you won't be paired with {mention(member.ref)}. Nobody else is told."
        )

    @command("unavoid")
    async def unavoid(
        self, ctx: Ctx, member: Annotated[Member, "Who may be paired with you again"]
    ) -> None:
        """Take a member off your do-not-pair list."""
        repo = Repo(ctx.uow.session, ctx.community)
        if not await repo.unavoid(ctx.actor.ref.id, ctx.actor.ref.id, member.ref.id):
            raise UserError(f"{mention(member.ref)} isn't on your do-not-pair list.")
        await ctx.reply(f"{mention(member.ref)} may be paired with you again.")

    @command("thanks")
    async def thanks(
        self,
        ctx: Ctx,
        member: Annotated[Member, "Someone you met through introductions"],
        note: Annotated[str | None, "What you'd like to say"] = None,
        share: Annotated[bool, "Show it in the thanks channel too, if they agree"] = False,
    ) -> None:
        """Thank someone you met (privately; in the thanks channel only if you both agree)."""
        await ctx.reply(await _thanks.send(ctx, member.ref, note or "", share))

    @component("share_thanks")
    async def share_thanks(self, ctx: Ctx, press: Pressed) -> None:
        """The thanked member agrees to show the thank-you in the channel."""
        await ctx.reply(await _thanks.share(ctx, press.value))

    @component("met")
    async def met(self, ctx: Ctx, press: Pressed) -> None:
        """A member says their group met."""
        await self._answer(ctx, press, Answer.MET)

    @component("not_yet")
    async def not_yet(self, ctx: Ctx, press: Pressed) -> None:
        """A member says they haven't met yet."""
        await self._answer(ctx, press, Answer.NOT_YET)

    @component("skip")
    async def skip(self, ctx: Ctx, press: Pressed) -> None:
        """A member skips this round."""
        await self._answer(ctx, press, Answer.SKIP)

    async def _answer(self, ctx: Ctx, press: Pressed, answer: Answer) -> None:
        await Rounds(ctx).answer(press.value, ctx.actor.ref.id, answer)
        await ctx.reply(ANSWERED[answer.value])

    # -- what managers do --------------------------------------------------------------------

    @command("start", requires=Level.MOD)
    async def start(self, ctx: Ctx) -> None:
        """Start rounds on the schedule in the settings (cadence, round_time)."""
        flow = Rounds(ctx)
        config = await flow.repo.config(flow.now)
        config.running, config.updated_at = True, flow.now
        at = await flow.arm()
        await ctx.reply(
            f"Introductions are on ({ctx.settings.cadence}). The next round starts {at}."
        )

    @command("stop", requires=Level.MOD)
    async def stop(self, ctx: Ctx) -> None:
        """Stop starting rounds (the current one runs to its end)."""
        flow = Rounds(ctx)
        config = await flow.repo.config(flow.now)
        config.running, config.updated_at = False, flow.now
        await ctx.timers.cancel(ROUND_KEY)
        await ctx.reply("Introductions are off: no new rounds until `/introductions start`.")

    @command("round now", requires=Level.MOD)
    async def round_now(self, ctx: Ctx) -> None:
        """Run a round now (the schedule goes on from there)."""
        await Rounds(ctx).arm(now=True)
        await ctx.reply("A round starts now: everyone in the pool gets their group shortly.")

    @command("stats", requires=Level.MOD)
    async def stats(
        self, ctx: Ctx, period: Annotated[timedelta | None, "How far back, like 8w"] = None
    ) -> None:
        """Rounds, people paired, the met rate per round and pairs who kept talking."""
        await ctx.reply(await _admin.stats(ctx, period or timedelta(weeks=8)))

    @command("settings", requires=Level.MOD)
    async def settings(self, ctx: Ctx) -> None:
        """Whether rounds are on, when the next is, and the settings."""
        await ctx.reply(await _admin.overview(ctx))

    @command("history", requires=Level.MOD)
    async def history(self, ctx: Ctx, member: Annotated[Member, "Whose introductions"]) -> None:
        """Whom a member met in the last 8 rounds, and what they answered."""
        await ctx.reply(await _admin.history(ctx, member.ref))

    @command("block", requires=Level.MOD)
    async def block(
        self,
        ctx: Ctx,
        member: Annotated[Member, "One of the two"],
        other: Annotated[Member, "The other one"],
    ) -> None:
        """Never put these two members together (the moderators' list)."""
        if member.ref.id == other.ref.id:
            raise UserError("Name two different members.")
        repo = Repo(ctx.uow.session, ctx.community)
        await repo.avoid(MODS, member.ref.id, other.ref.id, ctx.clock.now())
        await ctx.reply(f"{mention(member.ref)} and {mention(other.ref)} won't be put together.")

    @command("blocked", requires=Level.MOD)
    async def blocked(self, ctx: Ctx) -> None:
        """The moderators' do-not-pair list."""
        await ctx.reply(await _admin.blocked(ctx))

    @command("starter add", requires=Level.ADMIN)
    async def starter_add(
        self,
        ctx: Ctx,
        text: Annotated[str, "A question to get a group talking"],
        interest: Annotated[str | None, "Only for groups who share this interest"] = None,
    ) -> None:
        """Add a conversation starter, for everyone or for one interest."""
        text = " ".join(text.split())
        if not 3 <= len(text) <= 300:
            raise UserError("A starter is 3 to 300 characters.")
        interest = " ".join((interest or "").split())
        if len(interest) > 80:
            raise UserError("An interest's name is at most 80 characters.")
        flow = Rounds(ctx)
        config = await flow.repo.config(flow.now)
        config.starters = "\n".join([*config.starters.splitlines(), starter_line(text, interest)])
        config.updated_at = flow.now
        who = f" (for groups who share {interest})" if interest else ""
        await ctx.reply(f"Starter added{who}: {text}")

    # -- what happens by itself --------------------------------------------------------------

    @on(PlatformReady)
    async def ready(self, ctx: Listen, event: PlatformReady) -> None:
        """A running community always has its next round on a timer."""
        await Rounds(ctx).rearm()

    @on(MemberJoined)
    async def joined(self, ctx: Listen, event: MemberJoined) -> None:
        """Note when a member arrived, for the newcomer-veteran mode."""
        flow = Rounds(ctx)
        row = await flow.repo.ensure_member(event.member.ref.id, flow.now)
        row.arrived_at = row.arrived_at or flow.now

    @on(MemberLeft)
    async def left(self, ctx: Listen, event: MemberLeft) -> None:
        """A leaver leaves the pool (and is welcome back in it if they return)."""
        await Rounds(ctx).leave(event.user.id, by_choice=False)

    @on(InterestsChosen)
    async def interests_chosen(self, ctx: Listen, event: InterestsChosen) -> None:
        """Keep the interests a member picked in onboarding (for interest mode and intros)."""
        flow = Rounds(ctx)
        await flow.pool.interests_chosen(event.user.id, event.interests)

    @on(OnboardingFinished)
    async def onboarded(self, ctx: Listen, event: OnboardingFinished) -> None:
        """Offer a newcomer who finished onboarding a place in the pool (offer_newcomers)."""
        if event.newcomer:
            await Rounds(ctx).pool.offer(event.user)

    @component("join_offer")
    async def join_offer(self, ctx: Ctx, press: Pressed) -> None:
        """A newcomer accepts the offer to join the pool."""
        await self.join(ctx)

    @on(MessagePosted)
    async def posted(self, ctx: Listen, event: MessagePosted) -> None:
        """Learn who talked to whom: replies, mentions, and threads or introductions' group
        conversations both posted in (ids only)."""
        if event.author.is_bot:
            return
        repo = Repo(ctx.uow.session, ctx.community)
        author = event.author.ref.id
        posters: frozenset[str] = frozenset()
        channel = event.message.channel
        if event.in_thread or channel.thread:
            thread = channel.thread or channel.id
            posters = await repo.thread_posters(f"{channel.id}:{thread}", author)
        elif ctx.port.platform == "slack" and await repo.is_group_conversation(channel.id):
            # A Slack group DM Steward opened for a group (Discord's are private threads).
            posters = await repo.thread_posters(f"{channel.id}:{channel.id}", author)
        replied = event.reply_author.id if event.reply_author else None
        said = Said(author, replied_to=replied, thread_posters=posters)
        pairs = pairs_joined(said) | {
            frozenset((author, m.id)) for m in event.mentions if m.id != author
        }
        if pairs:
            await repo.talked(pairs, ctx.clock.now())

    async def forget_member(self, ctx: Listen, user: UserRef) -> None:
        """Delete the member's pool entry, seats, do-not-pair entries and talk records."""
        await Repo(ctx.uow.session, ctx.community).forget(user.id)

    # -- timers ------------------------------------------------------------------------------

    @timer("round")
    async def round(self, ctx: Job, payload: dict[str, Any]) -> None:
        """A round is due: close the last one, form and introduce the groups."""
        await Rounds(ctx).run_round()

    @timer("check_in")
    async def check_in(self, ctx: Job, payload: dict[str, Any]) -> None:
        """Midway or near the end of a round: did you meet?"""
        await Rounds(ctx).check_in(int(payload["round"]), bool(payload.get("final")))


__all__ = ["Introductions"]
