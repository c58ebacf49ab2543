"""Signed webhooks in: the managers' commands, and the endpoint that takes each delivery once.

A webhook is a source like a feed (same seen map, delivery log and posting), whose items arrive
signed at ``/announcements/hooks/<token>`` on Steward's HTTP endpoint instead of being polled.
"""

from __future__ import annotations

import base64
import json
import secrets
from datetime import timedelta
from typing import Annotated, Literal

from bot.core import (
    ChannelRef,
    CommandContext,
    CommunityRef,
    FeatureSettings,
    HttpContext,
    HttpRequest,
    HttpResponse,
    Level,
    Runtime,
    UserError,
    command,
    endpoint,
)
from cogs.announcements._checks import MAX_FEEDS, can_post, find_source
from cogs.announcements._models import AnnouncementFeed, AnnouncementHook
from cogs.announcements._payloads import PayloadError, check_mapping, items_from_delivery
from cogs.announcements._repo import Repo, first_delivery, hook_by_token
from cogs.announcements._routes import RouteSpec, add_route
from cogs.announcements._service import take_items
from cogs.announcements._signatures import REPLAY_HORIZON, Scheme, SeenDeliveries, admit

Ctx = CommandContext[FeatureSettings]
HOOK_PATH = "/hooks/{token}"
SCHEMES = {"github": "GitHub", "standard": "Standard Webhooks"}
NO_ENDPOINT = (
    "Webhooks need Steward's HTTP endpoint, and this Steward has none: the operator sets "
    "STEWARD_HTTP_PORT and STEWARD_PUBLIC_URL (or runs Slack in HTTP mode), then restarts."
)


def new_secret(scheme: str) -> str:
    """A fresh secret in the form the sender expects (``whsec_`` + base64 for Standard)."""
    if scheme == Scheme.STANDARD:
        return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    return secrets.token_hex(32)


def parse_mapping(text: str) -> dict[str, str]:
    """``title=data.name, link=data.url`` as a mapping, or a friendly refusal."""
    pairs = [p.strip() for p in text.split(",") if p.strip()]
    mapping = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep:
            raise UserError(f"`{pair[:100]}` is not `field=path` (like `title=data.name`).")
        mapping[name.strip()] = path.strip()
    try:
        return check_mapping(mapping)
    except PayloadError as exc:
        raise UserError(str(exc)) from None


def _shown_once(url: str, secret: str, scheme: str) -> str:
    how = (
        "In the repository: Settings → Webhooks → Add webhook; Payload URL above, content type "
        "`application/json`, this secret, and the *Releases* event."
        if scheme == Scheme.GITHUB
        else "Give the sender this address and secret (Standard Webhooks: webhook-id, "
        "webhook-timestamp and webhook-signature headers)."
    )
    return (
        f"Address: {url}\nSecret: `{secret}`\n"
        "This secret is shown once, only to you: copy it now. "
        "`/announcements webhook rotate` makes a new one.\n" + how
    )


class WebhookCommands:
    """``/announcements webhook create|list|remove|rotate`` and the inbound endpoint."""

    runtime: Runtime

    def _address(self, token: str) -> str:
        url = self.runtime.web.url(f"/announcements/hooks/{token}")
        if url is None:
            raise UserError(NO_ENDPOINT)
        return url

    @command("webhook create", requires=Level.ADMIN)
    async def webhook_create(
        self,
        ctx: Ctx,
        channel: Annotated[ChannelRef, "Where its items go"],
        scheme: Annotated[
            Literal["github", "standard"], "Who signs: github or standard"
        ] = "github",
        name: Annotated[str, "A name to tell it apart"] = "",
        mapping: Annotated[str, "Item fields from the JSON, like title=data.name"] = "",
    ) -> None:
        """Make a signed webhook address whose deliveries are posted in a channel."""
        token = secrets.token_urlsafe(24)
        url = self._address(token)
        fields = parse_mapping(mapping) if mapping.strip() else {}
        await can_post(ctx, channel)
        repo = Repo(ctx.uow.session, ctx.community)
        if await repo.count() >= MAX_FEEDS:
            raise UserError(f"This community already has {MAX_FEEDS} sources, my limit.")
        now = ctx.clock.now()
        feed = AnnouncementFeed(
            community_id=ctx.community.key,
            url=f"webhook:{token}",
            kind="webhook",
            channel_id=channel.id,
            title=(name.strip() or f"{SCHEMES[scheme]} webhook")[:256],
            added_by=ctx.actor.ref.id,
            added_at=now,
            first_fetch="nothing",
            compare="",
            paused=False,
            failures=0,
            primed=True,  # a push is news: nothing to stay quiet about
            next_poll_at=now,
        )
        repo.add(feed)
        await ctx.uow.session.flush()
        await add_route(ctx, repo, feed, RouteSpec(channel))
        secret = new_secret(scheme)
        ctx.uow.session.add(
            AnnouncementHook(
                feed_id=feed.id,
                token=token,
                scheme=scheme,
                secret=secret,
                mapping=json.dumps(fields) if fields else "",
            )
        )
        await ctx.reply(f"Webhook {feed.id} made.\n" + _shown_once(url, secret, scheme))

    @command("webhook list", requires=Level.ADMIN)
    async def webhook_list(self, ctx: Ctx) -> None:
        """See the community's webhooks (never their secrets)."""
        hooks = await Repo(ctx.uow.session, ctx.community).hooks()
        if not hooks:
            await ctx.reply("No webhooks yet: `/announcements webhook create <#channel>`.")
            return
        now = ctx.clock.now()
        lines = []
        for feed, hook in hooks:
            line = f"{feed.id}. {feed.title} ({SCHEMES.get(hook.scheme, hook.scheme)})"
            if hook.old_until is not None and hook.old_until > now:
                line += f", old secret accepted until {hook.old_until:%Y-%m-%d %H:%M} UTC"
            if feed.paused:
                line += ", paused"
            lines.append(line)
        await ctx.reply("\n".join(lines))

    @command("webhook remove", requires=Level.ADMIN)
    async def webhook_remove(self, ctx: Ctx, hook: Annotated[str, "The webhook's number"]) -> None:
        """Delete a webhook: its address stops accepting deliveries at once."""
        repo = Repo(ctx.uow.session, ctx.community)
        feed = await _webhook(repo, hook)
        await repo.remove(feed)
        await ctx.reply(f"Removed webhook {feed.id}: its address now refuses deliveries.")

    @command("webhook rotate", requires=Level.ADMIN)
    async def webhook_rotate(
        self,
        ctx: Ctx,
        hook: Annotated[str, "The webhook's number"],
        keep: Annotated[timedelta | None, "How long the old secret still works, like 24h"] = None,
    ) -> None:
        """Give a webhook a new secret; the old one works for a while (24 hours by default)."""
        repo = Repo(ctx.uow.session, ctx.community)
        feed = await _webhook(repo, hook)
        [(_, row)] = [(f, h) for f, h in await repo.hooks() if f.id == feed.id]
        grace = keep if keep is not None else timedelta(hours=24)
        if grace > timedelta(days=7):
            raise UserError("The old secret can stay valid for at most 7 days.")
        secret = new_secret(row.scheme)
        row.old_secret, row.old_until, row.secret = row.secret, ctx.clock.now() + grace, secret
        url = self._address(row.token)
        kept = f"The old secret works until {row.old_until:%Y-%m-%d %H:%M} UTC.\n"
        await ctx.reply(
            f"Webhook {feed.id} has a new secret. {kept}" + _shown_once(url, secret, row.scheme)
        )

    @endpoint("POST", HOOK_PATH)
    async def webhook_delivery(self, ctx: HttpContext, request: HttpRequest) -> HttpResponse:
        """One delivery: signed, fresh and new, or refused; its items are posted once."""
        found = await hook_by_token(ctx.uow.session, request.params.get("token", ""))
        if found is None or found[0].kind != "webhook":
            return HttpResponse(404, "no such webhook")
        feed, hook = found
        community = await ctx.enter(CommunityRef.from_key(feed.community_id))
        if community is None:
            return HttpResponse(404, "no such webhook")
        now = ctx.clock.now()
        keys = [hook.secret.encode()]
        if hook.old_secret and hook.old_until is not None and now < hook.old_until:
            keys.append(hook.old_secret.encode())
        scheme = Scheme(hook.scheme)
        # The durable replay set below decides "seen before"; this pass checks signature and time.
        verdict = admit(
            scheme, request.body, request.headers, keys, now.timestamp(), SeenDeliveries()
        )
        if not verdict.process:
            community.log.info("webhook %s refused a delivery: %s", feed.id, verdict.refusal)
            return HttpResponse(verdict.status, "refused")
        mapping = json.loads(hook.mapping) if hook.mapping else None
        try:
            items = items_from_delivery(
                scheme, request.headers, request.body, verdict.delivery_id, mapping=mapping
            )
        except PayloadError as exc:
            return HttpResponse(400, f"not an announcement: {exc}")
        assert verdict.delivery_id is not None
        horizon = timedelta(seconds=REPLAY_HORIZON)
        if not await first_delivery(ctx.uow.session, feed.id, verdict.delivery_id, now, horizon):
            return HttpResponse(200, "already accepted")
        if feed.paused or not items:
            return HttpResponse(202, "accepted, nothing to post")
        taken = await take_items(community, feed, items, now)
        return HttpResponse(202, f"accepted, {len(taken.post) + len(taken.changed)} to post")


async def _webhook(repo: Repo, wanted: str) -> AnnouncementFeed:
    feed = await find_source(repo, wanted)
    if feed.kind != "webhook":
        raise UserError(
            f"{wanted.strip()[:50]} is a feed, not a webhook: see `/announcements list`."
        )
    return feed
