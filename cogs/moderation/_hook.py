"""The company's webhook: escalations sent signed (Standard Webhooks), retried, keyed once.

An admin sets the address (``/moderation escalation webhook``); the secret is made by Steward
(or given by the admin) and kept in its own table, shown once and never again, never logged.
Each escalation queues one delivery per event (opened, resolved) as a durable timer written with
the case: before each try the next try is scheduled and committed, so a crash mid-delivery
tries again, and every try carries the same ``webhook-id`` (the receiver's idempotency key).
The address is reached only where the process's address policy allows (public addresses, plus
the networks the operator allows with ``feeds_allow``).
"""

from __future__ import annotations

import base64
import json
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from bot.core import Context, UserError
from bot.core.guard import AddressPolicy
from bot.core.webhooks import post, signed_headers, web_address
from cogs.moderation import _notify
from cogs.moderation._models import (
    ModerationCase,
    ModerationEscalationHook,
    ModerationEscalationMember,
)
from cogs.moderation._repo import Repo
from cogs.moderation.settings import ModerationSettings

Ctx = Context[ModerationSettings]
SEND = "escalation_webhook"
"""The timer that sends one escalation event to the company's webhook."""
OPENED = "escalation.opened"
RESOLVED = "escalation.resolved"
TRIES = 8
"""Tries before giving up (backoff 1, 2, 4 … 64 minutes: about two hours in all)."""


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


async def hook_of(ctx: Ctx) -> ModerationEscalationHook | None:
    """The community's webhook, if one is set."""
    return await ctx.uow.session.get(ModerationEscalationHook, ctx.community.key)


async def set_hook(ctx: Ctx, url: str, secret: str | None, actor: str) -> str:
    """Set (or with ``off``, remove) the webhook; returns the answer, with a made secret once."""
    row = await hook_of(ctx)
    if url.strip().lower() == "off":
        if row is None:
            return "No escalation webhook is set."
        await ctx.uow.session.delete(row)
        return "Escalations are no longer sent to a webhook (those queued are dropped)."
    why = web_address(url)
    if why is not None:
        raise UserError(f"That address won't do: {why}.")
    given = (secret or "").strip()
    if given and not 16 <= len(given) <= 200:
        raise UserError("A secret is 16 to 200 characters (or leave it out and I'll make one).")
    made = given or new_secret()
    if row is None:
        row = ModerationEscalationHook(
            community_id=ctx.community.key,
            url=url.strip(),
            secret=made,
            created_by=actor,
            created_at=ctx.clock.now(),
        )
        ctx.uow.session.add(row)
    else:
        row.url, row.secret, row.created_by = url.strip(), made, actor
    said = (
        f"Escalations will be sent to {url.strip()}, signed the Standard Webhooks way "
        "(webhook-id, webhook-timestamp, webhook-signature: v1, HMAC-SHA256)."
    )
    if given:
        return said + " The secret you gave is kept and never shown again."
    return said + f"\nSecret: `{made}`\nThis secret is shown once, only to you: copy it now."


def _ident(ctx: Ctx, case: ModerationCase, event: str) -> str:
    """The delivery's id: the same on every try, so the receiver takes it once."""
    community = ctx.community.key.replace(":", "_")
    return f"steward_{community}_case{case.number}_{event.rsplit('.', 1)[-1]}"


async def queue(ctx: Ctx, case: ModerationCase, event: str) -> bool:
    """Queue ``event`` of ``case`` for the webhook (with the case's own writes); False: none set."""
    if await hook_of(ctx) is None:
        return False
    await ctx.timers.schedule(
        SEND,
        at=ctx.clock.now(),
        key=f"hook:{case.number}:{event}",
        payload={"case": case.number, "event": event, "try": 1},
    )
    return True


async def body(ctx: Ctx, case: ModerationCase, event: str) -> bytes:
    """What the company receives: the Standard Webhooks envelope (type, timestamp, data)."""
    history = await Repo(ctx.uow.session, ctx.community).history(case)
    evidence = next((e.note for e in history if e.key == "evidence"), None)
    resolution = next((e.note for e in history if e.move == "resolve"), None)
    affected = await ctx.uow.session.scalar(
        select(func.count()).where(ModerationEscalationMember.case_id == case.id)
    )
    data: dict[str, Any] = {
        "case": case.number,
        "community": ctx.community.key,
        "summary": case.reason,
        "member": case.target_id,
        "escalated_by": case.actor_id,
        "opened_at": case.created_at.isoformat(),
        "message": evidence,
        "affected": affected or 0,
        "status": case.status,
    }
    if event == RESOLVED:
        data["resolution"] = resolution
    envelope = {"type": event, "timestamp": ctx.clock.now().isoformat(), "data": data}
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode()


async def send(ctx: Ctx, payload: dict[str, Any], policy: AddressPolicy) -> None:
    """One try of one delivery; the next try is committed before this one goes out."""
    number, event, attempt = int(payload["case"]), str(payload["event"]), int(payload["try"])
    hook = await hook_of(ctx)
    case = await Repo(ctx.uow.session, ctx.community).case(number)
    if hook is None or case is None:
        return
    key = f"hook:{number}:{event}"
    if attempt < TRIES:
        await ctx.timers.schedule(
            SEND,
            at=ctx.clock.now() + timedelta(minutes=2 ** (attempt - 1)),
            key=key,
            payload={"case": number, "event": event, "try": attempt + 1},
        )
    content = await body(ctx, case, event)
    url, secret = hook.url, hook.secret.encode()
    await ctx.commit()
    stamp = int(ctx.clock.now().timestamp())
    headers = signed_headers(secret, _ident(ctx, case, event), stamp, content)
    sent = await post(url, content, headers, policy)
    if sent.ok:
        await ctx.timers.cancel(key)
        await Repo(ctx.uow.session, ctx.community).record(
            case,
            move="webhook",
            actor="steward",
            at=ctx.clock.now(),
            key=f"webhook:{event}",
            note=f"{event} delivered to the team's webhook (HTTP {sent.status})",
        )
        return
    problem = sent.problem or f"the receiver answered HTTP {sent.status}"
    ctx.log.warning("escalation case #%s: webhook try %d failed: %s", number, attempt, problem)
    if attempt >= TRIES:
        await _notify.alert(
            ctx,
            f"Case #{number} could not be sent to the team's webhook after {TRIES} tries: "
            f"{problem}. `/moderation escalation webhook` shows or changes the address.",
            key=f"hook-failed:{number}:{event}",
        )
