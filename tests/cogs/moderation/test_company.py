"""Escalating a member's problem to the company: the team's post, the signed webhook (a real
HTTP server on loopback checks the signature), Me too, and everyone told when it's fixed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from bot.builtin import Steward
from bot.core.webhooks import sign
from cogs.announcements._signatures import Scheme, SeenDeliveries, admit
from cogs.moderation import Moderation
from sandbox.scenario import Community, Person, Posted, open_community
from tests.cogs.moderation.world import make_moderator
from tests.conftest import shared_dir

HOST = "127.0.0.2"


@dataclass
class Receiver:
    """The company's help desk: a real HTTP server on loopback keeping every delivery."""

    answers: list[int] = field(default_factory=list)
    """Statuses to answer, in turn (then 200)."""
    got: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""
    runner: web.AppRunner | None = None

    async def start(self) -> None:
        async def hook(request: web.Request) -> web.Response:
            self.got.append(
                ({k.lower(): v for k, v in request.headers.items()}, await request.read())
            )
            return web.Response(status=self.answers.pop(0) if self.answers else 200)

        app = web.Application()
        app.router.add_post("/hook", hook)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, HOST, 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://{HOST}:{port}/hook"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = Receiver()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(params=["discord", "slack"])
async def allowed(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Community]:
    """Moderation where the operator allowed 127.0.0.2 (the company's help desk) to be reached."""
    shared_dir()
    config = {"feeds_allow": [HOST + "/32"]}
    features = [Steward(), Moderation()]
    async with open_community(request.param, database_url, features, config=config) as running:
        await make_moderator(running, running.people["alice"], running.people["ada"])
        yield running
        fake = running.fake  # type: ignore[attr-defined]
    assert not fake.violations, "\n".join(str(v) for v in fake.violations)


def verified(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The Standard Webhooks check, written out from the spec (not Steward's code)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(part == f"v1,{expected}" for part in headers["webhook-signature"].split())


async def set_hook(community: Community, url: str) -> str:
    """Ada (an admin) points escalations at ``url``; the secret she is shown once."""
    answer = await community.slash(
        community.people["ada"], "moderation escalation webhook", url=url
    )
    assert answer.ephemeral
    found = re.search(r"Secret: `(whsec_[A-Za-z0-9+/=]+)`", answer.text)
    assert found is not None, answer.text
    return found.group(1)


def team_post(community: Community) -> Posted:
    [post] = [m for m in community.messages_in("mods") if community.offers(m, "resolve")]
    return post


async def test_an_escalated_message_goes_to_the_team_signed_and_all_who_raised_it_hear_the_fix(
    allowed: Community, receiver: Receiver
) -> None:
    community = allowed
    alice, bob = community.people["alice"], community.people["bob"]
    carl = await community.member_joins("carl")
    await community.configure("moderation", escalation_channel=community.channel_mention("mods"))
    secret = await set_hook(community, receiver.url)
    posted = await community.says(carl, "Login fails with error 500 since this morning @here")

    refused = await community.message_action(bob, posted, "Escalate to the team")
    assert refused.ephemeral and refused.text.startswith("Sorry, you need to be")
    said = await community.message_action(alice, posted, "Escalate to the team")
    assert said.ephemeral
    assert community.readable(said.text) == (
        "Case #1: escalated to the team. It is posted in #mods. It is on its way to the team's "
        "webhook. Members who hit the same problem can press Me too under the note I posted. "
        "`/moderation resolve 1 <note>` tells them all when it's fixed."
    )
    shown = community.readable(team_post(community).text)
    assert "Case #1: @alice escalated a problem @carl raised: Login fails with error 500" in shown
    assert "Message: #general " in shown
    assert "@here" not in team_post(community).text  # the member's words ping nobody

    # The company's help desk got it once, signed so that it can check it came from Steward.
    await community.advance(seconds=1)
    assert len(receiver.got) == 1
    headers, body = receiver.got[0]
    assert verified(secret, headers, body)
    now = community.clock.now().timestamp()
    taken = admit(Scheme.STANDARD, body, headers, [secret.encode()], now, SeenDeliveries())
    assert taken.process
    sent = json.loads(body)
    assert sent["type"] == "escalation.opened"
    assert sent["data"]["case"] == 1 and sent["data"]["summary"].startswith("Login fails")
    assert secret not in body.decode() and secret[6:] not in json.dumps(dict(headers))

    # Bob hit the same problem: Me too under the public note, once.
    [note] = [m for m in community.messages_in("general") if community.offers(m, "metoo")]
    assert "The team has been told about this: Login fails with error 500" in note.text
    assert "@here" not in note.text
    joined = await community.click(bob, note, "metoo")
    assert joined.ephemeral and joined.text.startswith("Thanks, you're on the list")
    again = await community.click(bob, note, "metoo")
    assert again.text.startswith("You're already on the list")

    await community.advance(hours=2)
    stats = await community.slash(alice, "moderation stats")
    assert stats.text.splitlines()[-1] == "Escalations open: 1 (oldest waiting 2h)."

    # Alice resolves it from the team's post, in her words (the pings in them made inert).
    opened = await community.click(alice, team_post(community), "resolve")
    assert opened.form is not None
    words = "Fixed in 2.3.1, thanks for your patience @everyone"
    done = await community.submit(alice, opened, {"note": words})
    assert done.text == "Case #1 resolved; 2 members were told privately."
    twice = await community.click(alice, team_post(community), "resolve")
    assert twice.form is None and twice.text == "Case #1 is already resolved."
    again = await community.slash(alice, "moderation resolve", case=1, note="again")
    assert again.text == "Case #1 is already resolved."
    for person in (carl, bob):
        [fixed] = [m for m in community.dms_of(person) if "Fixed" in m.text]
        assert "The problem you raised with the team is fixed. In the team's words: " in fixed.text
        assert "Fixed in 2.3.1, thanks for your patience" in fixed.text
        assert "@everyone" not in fixed.text  # inert in the manager's words too
        assert not community.pings_of(person)
    late = await community.click(bob, note, "metoo")
    assert late.text.startswith("The team has already fixed this. The team says: Fixed in 2.3.1")

    await community.advance(seconds=1)
    assert [json.loads(b)["type"] for _h, b in receiver.got] == [
        "escalation.opened",
        "escalation.resolved",
    ]
    resolved = json.loads(receiver.got[1][1])
    assert resolved["data"]["resolution"] == words and resolved["data"]["affected"] == 2
    assert verified(secret, *receiver.got[1])
    stats = await community.slash(alice, "moderation stats")
    assert stats.text.splitlines()[-1] == "Escalations open: none."


async def test_a_failed_delivery_is_tried_again_with_the_same_id_and_recorded_on_the_case(
    allowed: Community, receiver: Receiver
) -> None:
    community = allowed
    alice = community.people["alice"]
    carl = await community.member_joins("carl")
    receiver.answers = [503, 500]
    await set_hook(community, receiver.url)
    said = await community.slash(
        alice, "moderation escalate", member=carl, summary="Refund never arrived"
    )
    assert community.readable(said.text).startswith("Case #1: escalated to the team.")
    await community.advance(seconds=1)
    assert len(receiver.got) == 1
    await community.advance(minutes=1)
    assert len(receiver.got) == 2
    await community.advance(minutes=2)
    assert len(receiver.got) == 3
    await community.advance(hours=3)
    assert len(receiver.got) == 3  # taken: no more tries
    ids = {h["webhook-id"] for h, _b in receiver.got}
    assert len(ids) == 1  # one id on every try: the help desk files it once
    case = community.readable((await community.slash(alice, "moderation case", number=1)).text)
    assert "escalation.opened delivered to the team's webhook (HTTP 200)" in case


async def test_a_webhook_on_a_private_address_is_refused_and_the_staff_are_told(
    community: Community, alice: Person, receiver: Receiver
) -> None:
    carl = await community.member_joins("carl")
    await community.configure("steward", staff_channel=community.channel_mention("mods"))
    await set_hook(community, receiver.url)  # 127.0.0.2: not allowed by this process's config
    await community.slash(alice, "moderation escalate", member=carl, summary="App crashes")
    for _ in range(9):
        await community.advance(minutes=70)
    assert receiver.got == []
    told = [
        community.readable(m.text)
        for m in community.messages_in("mods")
        if "could not be sent" in m.text
    ]
    assert told == [
        "Case #1 could not be sent to the team's webhook after 8 tries: the address is on a "
        "private network (a loopback address). `/moderation escalation webhook` shows or "
        "changes the address."
    ]


async def test_only_admins_set_the_webhook_and_its_secret_is_never_shown_again(
    community: Community, alice: Person
) -> None:
    refused = await community.slash(
        alice, "moderation escalation webhook", url="https://desk.example/hook"
    )
    assert refused.text.startswith("Sorry, you need to be")
    ada = community.people["ada"]
    given = await community.slash(
        ada,
        "moderation escalation webhook",
        url="https://desk.example/hook",
        secret="a-secret-the-desk-gave-us",
    )
    assert "a-secret-the-desk-gave-us" not in given.text
    assert given.text.endswith("The secret you gave is kept and never shown again.")
    bad = await community.slash(ada, "moderation escalation webhook", url="ftp://desk.example")
    assert bad.text == ("That address won't do: the address must start with https:// (or http://).")
    off = await community.slash(ada, "moderation escalation webhook", url="off")
    assert off.text.startswith("Escalations are no longer sent to a webhook")


def test_the_signature_matches_the_standard_webhooks_example() -> None:
    # The example in the Standard Webhooks specification's reference libraries.
    secret = b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    assert (
        sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


async def test_a_member_who_asks_to_be_forgotten_leaves_the_escalation_list(
    community: Community, alice: Person
) -> None:
    bob = community.people["bob"]
    carl = await community.member_joins("carl")
    await community.configure("steward", staff_channel=community.channel_mention("mods"))
    await community.slash(
        alice,
        "moderation escalate",
        member=carl,
        summary="Refund missing",
        channel="#general",
    )
    [note] = [m for m in community.messages_in("general") if community.offers(m, "metoo")]
    await community.click(bob, note, "metoo")
    await community.slash(bob, "steward forget me")
    done = await community.slash(alice, "moderation resolve", case=1, note="Refunded")
    assert done.text == "Case #1 resolved; 1 member was told privately."
    assert not [m for m in community.dms_of(bob) if "Refunded" in m.text]
