"""WebSub: a feed that names a hub is also subscribed to, so its items arrive as published.

Steward asks the hub (through the same guarded fetcher as feeds) with a callback on its HTTP
endpoint and a secret per subscription; the hub's verification GET is answered only for a topic
Steward asked for; pushes are checked against the secret and go through the feed parser and the
same dedupe as polls; a durable timer renews the lease before it ends. Polling goes on as well,
so a hub that goes quiet loses nothing.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from bot.core import (
    CommunityRef,
    Context,
    FeatureSettings,
    HttpContext,
    HttpRequest,
    HttpResponse,
    JobContext,
    Runtime,
    endpoint,
    timer,
)
from cogs.announcements._fetch import Fetcher, FetchError
from cogs.announcements._models import AnnouncementFeed, AnnouncementHook
from cogs.announcements._payloads import PayloadError, items_from_delivery
from cogs.announcements._repo import Repo, hook_by_token
from cogs.announcements._service import take_items
from cogs.announcements._signatures import Scheme, SeenDeliveries, admit, websub_challenge
from cogs.announcements._websub import find_hub, lease_granted, renew_at, request_form

CALLBACK = "/websub/{token}"
RETRY = timedelta(hours=1)


class WebSubSubscriptions:
    """Subscribing at the hub, its verification, its pushes, and lease renewal."""

    runtime: Runtime
    fetcher: Fetcher

    async def subscribe_if_hub(
        self, ctx: Context[FeatureSettings], feed: AnnouncementFeed, body: bytes, url: str
    ) -> str:
        """Subscribe a just-added feed at the hub it names; a line for the manager, or ""."""
        hub, granted = await self.subscribe_at_hub(ctx, feed, body, url)
        if hub is None:
            return ""
        if granted:
            return f"\nIts hub will push new items as they come (WebSub, {hub[:200]})."
        return "\nIts hub refused a subscription, so I only check it on schedule."

    async def subscribe_at_hub(
        self, ctx: Context[FeatureSettings], feed: AnnouncementFeed, body: bytes, url: str
    ) -> tuple[str | None, bool]:
        """Subscribe a feed at the hub its document names: the hub (None: no hub, or no HTTP
        endpoint to be pushed to) and whether it took the request (a refusal is asked again)."""
        found = find_hub(body, url)
        if found is None:
            return None, False
        token = secrets.token_urlsafe(24)
        if self.runtime.web.url(f"/announcements/websub/{token}") is None:
            return None, False  # no HTTP endpoint: polling only
        hook = AnnouncementHook(
            feed_id=feed.id,
            token=token,
            scheme=Scheme.WEBSUB,
            secret=secrets.token_hex(32),
            mapping="",
            hub_url=found.hub,
            topic=found.topic,
        )
        ctx.uow.session.add(hook)
        return found.hub, await self._ask(ctx, hook)

    async def _ask(self, ctx: Context[FeatureSettings], hook: AnnouncementHook) -> bool:
        """Ask the hub to (re)subscribe; the verification may come before the answer, so the
        request is committed first. False (and retried later) when the hub refuses."""
        callback = self.runtime.web.url(f"/announcements/websub/{hook.token}")
        assert callback is not None and hook.hub_url and hook.topic
        hook.pending = "subscribe"
        form = request_form("subscribe", hook.topic, callback, hook.secret)
        hub, feed_id = hook.hub_url, hook.feed_id
        await ctx.uow.commit()
        try:
            status = await self.fetcher.post_form(hub, form)
        except FetchError as exc:
            ctx.log.warning("WebSub hub of feed %s unreachable: %s", feed_id, exc.explain())
            status = 0
        if 200 <= status < 300:
            return True
        hook.pending = None
        await ctx.timers.schedule(
            "websub_renew",
            at=ctx.clock.now() + RETRY,
            key=f"websub:{feed_id}",
            payload={"feed": feed_id},
        )
        return False

    @timer("websub_renew")
    async def websub_renew(self, ctx: JobContext[FeatureSettings], payload: dict[str, Any]) -> None:
        """The lease is nearly over (or the hub refused): subscribe again."""
        feed_id = int(payload["feed"])
        for feed, hook in await Repo(ctx.uow.session, ctx.community).hooks("feed"):
            if feed.id == feed_id and hook.scheme == Scheme.WEBSUB:
                if self.runtime.web.base_url is not None:
                    await self._ask(ctx, hook)
                return

    @endpoint("GET", CALLBACK)
    async def websub_verify(self, ctx: HttpContext, request: HttpRequest) -> HttpResponse:
        """The hub checks that Steward asked: the challenge is echoed only for its own topic."""
        found = await self._subscription(ctx, request)
        if found is None:
            return HttpResponse(404, "unknown subscription")
        feed, hook, community = found
        if request.query.get("hub.mode") == "denied":
            community.log.warning("WebSub hub denied feed %s", feed.id)
            hook.pending = None
            return HttpResponse(200, "")
        pending = {hook.topic: hook.pending} if hook.topic and hook.pending else {}
        challenge = websub_challenge(request.query, pending)
        if challenge is None:
            return HttpResponse(404, "not asked")
        hook.pending = None
        if request.query.get("hub.mode") == "subscribe":
            now = ctx.clock.now()
            lease = lease_granted(request.query.get("hub.lease_seconds"))
            hook.lease_until = now + timedelta(seconds=lease)
            await community.timers.schedule(
                "websub_renew",
                at=renew_at(now, lease),
                key=f"websub:{feed.id}",
                payload={"feed": feed.id},
            )
        return HttpResponse(200, challenge)

    @endpoint("POST", CALLBACK)
    async def websub_push(self, ctx: HttpContext, request: HttpRequest) -> HttpResponse:
        """New content from the hub: signed with the subscription's secret, else ignored."""
        found = await self._subscription(ctx, request)
        if found is None:
            return HttpResponse(410, "no such subscription")  # the hub drops it
        feed, hook, community = found
        now = ctx.clock.now()
        verdict = admit(
            Scheme.WEBSUB,
            request.body,
            request.headers,
            [hook.secret.encode()],
            now.timestamp(),
            SeenDeliveries(),
        )
        if not verdict.process:  # WebSub 7.1.2: acknowledged, ignored
            community.log.info("WebSub push for feed %s ignored: %s", feed.id, verdict.refusal)
            return HttpResponse(202, "")
        try:
            items = items_from_delivery(
                Scheme.WEBSUB, request.headers, request.body, None, feed.url
            )
        except PayloadError:
            return HttpResponse(202, "")
        if not feed.paused and items:
            await take_items(community, feed, items, now)
        return HttpResponse(202, "")

    async def _subscription(
        self, ctx: HttpContext, request: HttpRequest
    ) -> tuple[AnnouncementFeed, AnnouncementHook, Context[Any]] | None:
        found = await hook_by_token(ctx.uow.session, request.params.get("token", ""))
        if found is None or found[1].scheme != Scheme.WEBSUB:
            return None
        community = await ctx.enter(CommunityRef.from_key(found[0].community_id))
        return None if community is None else (found[0], found[1], community)
