"""The fake's Web API through the real slack_sdk AsyncWebClient: state, errors, faults, pings."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import FakeSlack
from sandbox.slack.faults import TIER_3, PostLimit, TierLimit
from sandbox.slack.state import StoredMessage


def _client(fake: FakeSlack, token: str | None = None) -> AsyncWebClient:
    return AsyncWebClient(token=token or fake.bot_token, base_url=fake.api_url)


async def test_rate_limit_storm_delays_but_does_not_drop_a_post(
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(random, "random", lambda: 0.0)  # no jitter in the SDK's retry sleep
    client = _client(fake_slack)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=5))
    fake_slack.faults.rate_limit(3, retry_after=0, method="chat.postMessage")

    response = await client.chat_postMessage(channel="general", text="still here")

    assert response["ok"]
    assert [c.status for c in fake_slack.calls_to("chat.postMessage")] == [429, 429, 429, 200]
    assert [m.text for m in fake_slack.messages_in("general")] == ["still here"]


async def test_posts_are_limited_to_one_a_second_per_channel(fake_slack: FakeSlack) -> None:
    fake_slack.post_limit = PostLimit(speed=2.0)  # half a second: the third post comes sooner
    client = _client(fake_slack)
    other = fake_slack.add_channel("random").id

    await client.chat_postMessage(channel="general", text="one")
    await client.chat_postMessage(channel=other, text="another channel has its own second")
    with pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel="general", text="too soon")
    assert refused.value.response.status_code == 429
    assert refused.value.response["error"] == "ratelimited"
    assert refused.value.response.headers["Retry-After"] == "1"  # whole seconds, as Slack
    await asyncio.sleep(fake_slack.post_limit.interval)
    await client.chat_postMessage(channel="general", text="two")

    assert [m.text for m in fake_slack.messages_in("general")] == ["one", "two"]


async def test_a_dm_by_user_id_and_by_its_id_is_one_conversation_for_the_post_limit(
    fake_slack: FakeSlack,
) -> None:
    """chat.postMessage to a user id posts in the app's DM with them and answers with the DM's
    id, as Slack does; naming the DM either way, its posts count against one second."""
    fake_slack.post_limit = PostLimit(speed=2.0)
    client = _client(fake_slack)
    alice = fake_slack.add_user("alice")

    first = await client.chat_postMessage(channel=alice.id, text="hello")
    dm = fake_slack.world.channels[first["channel"]]
    assert dm.is_im and dm.im_user == alice.id
    with pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel=dm.id, text="too soon, by the DM's id")
    assert refused.value.response.status_code == 429
    assert [m.text for m in fake_slack.dms_of(alice)] == ["hello"]


async def test_no_dm_with_a_deactivated_account_by_its_user_id(fake_slack: FakeSlack) -> None:
    """conversations.open refuses a deactivated account (user_disabled); a post to its user
    id is refused too, with the error chat.postMessage lists."""
    gone = fake_slack.add_user("gone")
    gone.deleted = True
    client = _client(fake_slack)
    with pytest.raises(SlackApiError) as opened:
        await client.conversations_open(users=gone.id)
    assert opened.value.response["error"] == "user_disabled"
    with pytest.raises(SlackApiError) as posted:
        await client.chat_postMessage(channel=gone.id, text="hello")
    assert posted.value.response["error"] == "channel_not_found"


async def test_tier_3_methods_take_50_calls_a_minute_per_workspace(fake_slack: FakeSlack) -> None:
    """conversations.open and conversations.invite are Tier 3: the fake lets 50 through in any
    minute (run 60 times faster here), then answers 429 with Retry-After until the first call
    leaves the minute; a refused call does not count, and each method has its own count."""
    fake_slack.tier_limit = TierLimit(speed=60.0)  # a minute of one second
    client = _client(fake_slack)
    people = [fake_slack.add_user(f"p{i}", in_general=False) for i in range(TIER_3 + 1)]
    for person in people[:TIER_3]:
        await client.conversations_open(users=person.id)
    with pytest.raises(SlackApiError) as refused:
        await client.conversations_open(users=people[-1].id)
    assert refused.value.response.status_code == 429
    assert refused.value.response["error"] == "ratelimited"
    assert refused.value.response.headers["Retry-After"] == "1"
    # Another Tier 3 method has a minute of its own.
    await client.conversations_invite(channel=fake_slack.general().id, users=people[0].id)
    await asyncio.sleep(fake_slack.tier_limit.minute)
    await client.conversations_open(users=people[-1].id)


async def test_rate_limit_without_retry_handler_surfaces_429(fake_slack: FakeSlack) -> None:
    fake_slack.faults.rate_limit(1, retry_after=7)
    with pytest.raises(SlackApiError) as caught:
        await _client(fake_slack).auth_test()
    assert caught.value.response.status_code == 429
    assert caught.value.response["error"] == "ratelimited"
    assert caught.value.response.headers["Retry-After"] == "7"


async def test_server_errors_are_retried_by_the_sdk_handler(fake_slack: FakeSlack) -> None:
    client = _client(fake_slack)
    no_wait = FixedValueRetryIntervalCalculator(fixed_internal=0)
    client.retry_handlers.append(
        AsyncServerErrorRetryHandler(max_retry_count=2, interval_calculator=no_wait)
    )
    fake_slack.faults.server_error(1, status=503)
    response = await client.conversations_list()
    assert [c.status for c in fake_slack.calls_to("conversations.list")] == [503, 200]
    assert [c["name"] for c in response["channels"]] == ["general"]


async def test_tokens_are_checked(fake_slack: FakeSlack) -> None:
    async with aiohttp.ClientSession() as http, http.post(fake_slack.api_url + "auth.test") as resp:
        assert resp.status == 200 and (await resp.json())["error"] == "not_authed"
    with pytest.raises(SlackApiError, match="invalid_auth"):
        await _client(fake_slack, "xoxb-nope").auth_test()
    with pytest.raises(SlackApiError, match="invalid_auth"):
        await _client(fake_slack).apps_connections_open(app_token=fake_slack.bot_token)
    fake_slack.revoke(fake_slack.bot_token)
    with pytest.raises(SlackApiError, match="token_revoked"):
        await _client(fake_slack).auth_test()


async def test_arguments_merge_from_query_form_and_json(fake_slack: FakeSlack) -> None:
    general = fake_slack.general().id
    auth = {"Authorization": f"Bearer {fake_slack.bot_token}"}
    async with aiohttp.ClientSession() as http:
        url = fake_slack.api_url + "chat.postMessage"
        form = {"channel": general, "text": "from a form", "token": fake_slack.bot_token}
        async with http.post(url + "?unfurl_links=false", data=form) as resp:
            assert (await resp.json())["ok"]
        await asyncio.sleep(fake_slack.post_limit.interval)  # one post a second per channel
        async with http.post(
            url, json={"channel": general, "text": "from json"}, headers=auth
        ) as resp:
            assert (await resp.json())["ok"]
        async with http.get(
            fake_slack.api_url + f"conversations.info?channel={general}", headers=auth
        ) as resp:
            assert (await resp.json())["channel"]["is_general"] is True
    first, second = fake_slack.messages_in("general")
    assert (first.text, first.options) == ("from a form", {"unfurl_links": "false"})
    assert second.text == "from json"


async def test_pings_follow_slacks_rules(fake_slack: FakeSlack) -> None:
    alice, bob = fake_slack.add_user("alice"), fake_slack.add_user("bob")
    mods = fake_slack.add_usergroup("mods", [bob])
    client = _client(fake_slack)

    async def post(**kwargs: Any) -> Any:
        await asyncio.sleep(fake_slack.post_limit.interval)  # one post a second per channel
        response = await client.chat_postMessage(channel="general", **kwargs)
        return fake_slack.messages_in("general")[-1].pings if response["ok"] else None

    assert not (
        await post(text="&lt;!here&gt; &lt;@U1&gt; @here")
    ).anyone  # escaped and plain: inert
    plain_block = {"type": "section", "text": {"type": "plain_text", "text": "<!channel>"}}
    assert not (await post(text="x", blocks=[plain_block])).anyone
    mrkdwn_block = {"type": "section", "text": {"type": "mrkdwn", "text": "<!channel>"}}
    pings = await post(text="x", blocks=[mrkdwn_block])
    assert pings.broadcasts == {"channel"} and {alice.id, bob.id} <= pings.notified
    pings = await post(text=f"<@{alice.id}> and <!subteam^{mods.id}|@mods>")
    assert pings.users == {alice.id} and pings.usergroups == {mods.id}
    assert pings.notified == {alice.id, bob.id}
    assert (await post(text="@here @alice", link_names=True)).broadcasts == {"here"}
    assert len(fake_slack.pinging_messages()) == 3


async def test_threads_reactions_and_history(fake_slack: FakeSlack) -> None:
    alice = fake_slack.add_user("alice")
    client = _client(fake_slack)
    root = await fake_slack.user_says(alice, "general", "question?")
    await client.chat_postMessage(channel="general", text="answer", thread_ts=root.ts)
    await fake_slack.user_says(alice, "general", "thanks", thread_ts=root.ts)
    with pytest.raises(SlackApiError, match="channel_not_found"):  # reactions need ids, not names
        await client.reactions_add(channel="general", timestamp=root.ts, name="eyes")
    await client.reactions_add(channel=fake_slack.general().id, timestamp=root.ts, name="eyes")
    with pytest.raises(SlackApiError, match="already_reacted"):
        await client.reactions_add(channel=fake_slack.general().id, timestamp=root.ts, name="eyes")

    assert root.data["reply_count"] == 2 and root.reactions == {"eyes": [fake_slack.bot_user_id]}
    replies = await client.conversations_replies(channel=fake_slack.general().id, ts=root.ts)
    assert [m["text"] for m in replies["messages"]] == ["question?", "answer", "thanks"]
    history = await client.conversations_history(channel=fake_slack.general().id)
    assert [m["text"] for m in history["messages"]] == ["question?"]
    await fake_slack.settle()


async def test_history_of_an_empty_range_is_an_empty_page(fake_slack: FakeSlack) -> None:
    """Slack answers ok with no messages (the spec's minItems 1 is in the allowlist)."""
    alice = fake_slack.add_user("alice")
    quiet = fake_slack.add_channel("quiet", members=[alice])
    client = _client(fake_slack)
    empty = await client.conversations_history(channel=quiet.id)
    assert empty["messages"] == [] and empty["has_more"] is False
    said = await fake_slack.user_says(alice, quiet, "now there is one")
    after = await client.conversations_history(channel=quiet.id, oldest=said.ts)
    assert after["messages"] == []
    await fake_slack.settle()  # the fixture fails the test on any violation


async def test_history_pages_at_most_999_newest_first_and_is_tier_3(fake_slack: FakeSlack) -> None:
    """conversations.history: "limit ... Maximum of 999", newest first, ``has_more`` and
    ``response_metadata.next_cursor`` to the next page; Tier 3 (50 a minute, then 429)."""
    fake_slack.tier_limit = TierLimit(speed=1.0)  # a minute is a minute here
    alice = fake_slack.add_user("alice")
    channel = fake_slack.general()
    for n in range(1200):
        data = {"type": "message", "user": alice.id, "text": f"m{n}"}
        data |= {"ts": fake_slack.world.next_ts(), "team": fake_slack.team.id}
        fake_slack.world.messages[channel.id].append(StoredMessage(channel.id, data, via="user"))
    client = _client(fake_slack)
    first = await client.conversations_history(channel=channel.id, limit=5000)
    assert len(first["messages"]) == 999 and first["has_more"] is True
    assert (first["messages"][0]["text"], first["messages"][-1]["text"]) == ("m1199", "m201")
    cursor = first["response_metadata"]["next_cursor"]
    rest = await client.conversations_history(channel=channel.id, limit=999, cursor=cursor)
    assert [m["text"] for m in rest["messages"]][-1] == "m0" and rest["has_more"] is False
    for _ in range(48):
        await client.conversations_history(channel=channel.id, limit=1)
    with pytest.raises(SlackApiError, match="ratelimited") as refused:
        await client.conversations_history(channel=channel.id, limit=1)
    assert int(refused.value.response.headers["Retry-After"]) >= 1
    await fake_slack.settle()


async def test_timestamps_follow_a_clock(fake_slack: FakeSlack) -> None:
    alice = fake_slack.add_user("alice")
    now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    fake_slack.follow_clock(lambda: now)
    first = await fake_slack.user_says(alice, "general", "one")
    second = await fake_slack.user_says(alice, "general", "two")
    assert (first.ts, second.ts) == ("1767603600.000000", "1767603600.000001")


async def test_delete_needs_ownership_or_an_admin_user_token(fake_slack: FakeSlack) -> None:
    alice, admin = fake_slack.add_user("alice"), fake_slack.add_user("ann", is_admin=True)
    spam = await fake_slack.user_says(alice, "general", "buy now")
    channel = fake_slack.general().id
    with pytest.raises(SlackApiError, match="cant_delete_message"):
        await _client(fake_slack).chat_delete(channel=channel, ts=spam.ts)
    await _client(fake_slack, fake_slack.user_token(admin)).chat_delete(channel=channel, ts=spam.ts)
    assert fake_slack.messages_in("general") == []
    with pytest.raises(SlackApiError, match="cant_update_message"):
        other = await fake_slack.user_says(alice, "general", "mine")
        await _client(fake_slack).chat_update(channel=channel, ts=other.ts, text="edited")
    await fake_slack.settle()


async def test_files_upload_v2_keeps_the_bytes(fake_slack: FakeSlack) -> None:
    client = _client(fake_slack)
    png = b"\x89PNG\r\n\x1a\n chart"
    response = await client.files_upload_v2(
        channel=fake_slack.general().id, filename="chart.png", content=png, title="Weekly"
    )
    [stored] = fake_slack.world.files.values()
    assert response["file"]["id"] == stored.id and stored.data == png and stored.title == "Weekly"
    assert fake_slack.messages_in("general")[-1].data["subtype"] == "file_share"
    methods = [c.method for c in fake_slack.calls]
    assert methods == ["files.getUploadURLExternal", "files.completeUploadExternal"]
    await fake_slack.settle()


async def test_dm_pagination_usergroups_and_team(fake_slack: FakeSlack) -> None:
    for name in ("alice", "bob", "carol"):
        fake_slack.add_user(name)
    client = _client(fake_slack)
    names = [u["name"] async for page in await client.users_list(limit=2) for u in page["members"]]
    assert names == ["steward", "alice", "bob", "carol"]

    alice = fake_slack.world.user_by_name(fake_slack.team.id, "alice")
    assert alice is not None
    opened = await client.conversations_open(users=alice.id)
    again = await client.conversations_open(users=alice.id)
    assert again["already_open"] and again["channel"]["id"] == opened["channel"]["id"]
    await client.chat_postMessage(channel=opened["channel"]["id"], text="welcome!")
    assert [m.text for m in fake_slack.dms_of(alice)] == ["welcome!"]

    created = await client.usergroups_create(name="Moderators", handle="mods")
    await client.usergroups_users_update(usergroup=created["usergroup"]["id"], users=[alice.id])
    listed = await client.usergroups_list(include_users=True)
    assert listed["usergroups"][0]["users"] == [alice.id]
    team = await client.team_info()
    assert team["team"]["id"] == fake_slack.team.id
    bot = await client.bots_info(bot=fake_slack.bot_id)
    assert bot["bot"]["user_id"] == fake_slack.bot_user_id
    await fake_slack.settle()


async def test_views_need_a_fresh_trigger_and_home_is_per_user(fake_slack: FakeSlack) -> None:
    client = _client(fake_slack)
    alice = fake_slack.add_user("alice")
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Hi"}, "blocks": []}
    with pytest.raises(SlackApiError, match="invalid_trigger_id"):
        await client.views_open(trigger_id="1.2.nope", view=modal)
    trigger = fake_slack.api.issue_trigger(alice.id, fake_slack.team.id)
    await client.views_open(trigger_id=trigger, view=modal)
    with pytest.raises(SlackApiError, match="exchanged_trigger_id"):
        await client.views_open(trigger_id=trigger, view=modal)

    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hello"}}],
    }
    await client.views_publish(user_id=alice.id, view=home)
    view = fake_slack.home_of(alice)
    assert view is not None and view.rendered == "Hello"
    opened = await fake_slack.open_home(alice)
    assert opened.payload["event"]["view"]["id"] == view.id
    assert json.loads(json.dumps(opened.payload))["event"]["tab"] == "home"


async def test_every_method_answers_within_the_spec(fake_slack: FakeSlack) -> None:
    """Drive each implemented method through slack_sdk; the fixture fails on any spec mismatch."""
    client = _client(fake_slack)
    alice, bob = fake_slack.add_user("alice"), fake_slack.add_user("bob")
    created = await client.conversations_create(name="mods-only", is_private=True)
    cid = created["channel"]["id"]
    await client.conversations_invite(channel=cid, users=[alice.id, bob.id])
    await client.conversations_kick(channel=cid, user=bob.id)
    assert (await client.conversations_members(channel=cid))["members"] == [
        fake_slack.bot_user_id,
        alice.id,
    ]
    public = fake_slack.add_channel("random", bot_member=False)
    await client.conversations_join(channel=public.id)
    await client.conversations_info(channel=public.id, include_num_members=True)
    mine = await client.users_conversations(types="public_channel,private_channel")
    assert {c["name"] for c in mine["channels"]} == {"general", "mods-only", "random"}
    await client.users_info(user=alice.id)

    posted = []
    for n in range(3):
        await asyncio.sleep(fake_slack.post_limit.interval)  # one post a second per channel
        posted.append(await client.chat_postMessage(channel=cid, text=f"note {n}"))
    history = await client.conversations_history(channel=cid, limit=2)
    assert history["has_more"] and history["response_metadata"]["next_cursor"]
    ts = posted[0]["ts"]
    await client.chat_update(channel=cid, ts=ts, text="note 0 (edited)")
    link = await client.chat_getPermalink(channel=cid, message_ts=ts)
    assert link["permalink"].endswith(ts.replace(".", ""))
    await client.reactions_add(channel=cid, timestamp=ts, name="white_check_mark")
    await client.reactions_remove(channel=cid, timestamp=ts, name="white_check_mark")
    await client.chat_postEphemeral(channel=cid, user=alice.id, text="only you")
    await client.chat_delete(channel=cid, ts=posted[1]["ts"])

    group = await client.conversations_open(users=[alice.id, bob.id])
    await client.conversations_open(users=alice.id, return_im=True)
    assert group["channel"]["id"].startswith("G")

    trigger = fake_slack.api.issue_trigger(alice.id, fake_slack.team.id)
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "One"}, "blocks": []}
    opened = await client.views_open(trigger_id=trigger, view=modal)
    push_trigger = fake_slack.api.issue_trigger(alice.id, fake_slack.team.id)
    await client.views_push(
        trigger_id=push_trigger, view=dict(modal, title={"type": "plain_text", "text": "Two"})
    )
    view = opened["view"]
    await client.views_update(view_id=view["id"], hash=view["hash"], view=modal)
    with pytest.raises(SlackApiError, match="hash_conflict"):
        await client.views_update(view_id=view["id"], hash=view["hash"], view=modal)

    group_id = (await client.usergroups_create(name="Helpers"))["usergroup"]["id"]
    await client.usergroups_users_update(usergroup=group_id, users=[bob.id])
    assert (await client.usergroups_users_list(usergroup=group_id))["users"] == [bob.id]
    with pytest.warns(UserWarning):
        await client.files_upload(channels=cid, content="a,b\n1,2\n", filename="report.csv")
    assert fake_slack.messages_in(cid)[-1].data["files"][0]["name"] == "report.csv"
    await fake_slack.settle()


async def test_a_group_dm_is_one_per_set_of_people_and_takes_at_most_eight(
    fake_slack: FakeSlack,
) -> None:
    from bot.adapters.slack.port import SlackPort
    from bot.core import CommunityRef, UserError, UserRef

    users = [fake_slack.add_user(f"member{i}") for i in range(9)]
    community = CommunityRef("slack", fake_slack.team.id)
    port = SlackPort(_client(fake_slack))
    refs = [UserRef(community, u.id) for u in users]
    first = await port.open_group(refs[:3], name="hello", parent=None)
    again = await port.open_group(list(reversed(refs[:3])), name="hello", parent=None)
    assert first == again  # the same people: the same group DM
    channel = fake_slack.world.channels[first.id]
    assert channel.is_mpim and set(channel.members) == {
        *(u.id for u in users[:3]),
        fake_slack.bot_user_id,
    }
    with pytest.raises(SlackApiError) as caught:
        await _client(fake_slack).conversations_open(users=",".join(u.id for u in users))
    assert caught.value.response["error"] == "too_many_users"
    with pytest.raises(UserError):
        await port.open_group(refs, name="hello", parent=None)
    await fake_slack.settle()
