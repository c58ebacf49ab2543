"""/steward on both platforms: what admins and members see."""

from __future__ import annotations

from sandbox.scenario import Community


async def test_admin_changes_a_setting_and_sees_it(community: Community) -> None:
    ada = community.people["ada"]
    done = await community.slash(
        ada, "steward settings set", feature="garden", key="greeting", value="Hi there"
    )
    assert done.ephemeral
    assert done.text == "garden `greeting` is now Hi there."
    shown = await community.slash(ada, "steward settings show", feature="garden", key="greeting")
    assert shown.ephemeral
    assert "garden settings" in shown.text
    assert "greeting: Hi there\nWhat newcomers are told." in shown.text


async def test_member_is_refused_privately_and_nothing_changes(community: Community) -> None:
    alice, ada = community.people["alice"], community.people["ada"]
    refused = await community.slash(
        alice, "steward settings set", feature="garden", key="greeting", value="pwned"
    )
    assert refused.ephemeral
    assert refused.text == "Sorry, you need to be an admin to use /steward settings set."
    assert community.messages_in("general") == []
    shown = await community.slash(ada, "steward settings show", feature="garden", key="greeting")
    assert "greeting: Welcome to the garden (default)" in shown.text


async def test_bad_value_is_explained_and_old_value_kept(community: Community) -> None:
    ada = community.people["ada"]
    refused = await community.slash(
        ada, "steward settings set", feature="garden", key="limit", value="lots"
    )
    assert refused.ephemeral and refused.text.startswith("`limit` expects a whole number.")
    shown = await community.slash(ada, "steward settings show", feature="garden", key="limit")
    assert "limit: 3 (default)" in shown.text


async def test_features_switch_off_and_on(community: Community) -> None:
    ada, alice = community.people["ada"], community.people["alice"]
    off = await community.slash(ada, "steward features", feature="desk", switch=False)
    assert off.text == "desk is now off in this community."
    refused = await community.slash(alice, "desk whois", member=ada)
    assert refused.ephemeral and "switched off" in refused.text
    await community.slash(ada, "steward features", feature="desk", switch=True)
    answered = await community.slash(alice, "desk whois", member=ada)
    assert answered.text == "ada is an admin"


async def test_help_shows_what_each_person_may_run(community: Community) -> None:
    member_help = await community.slash(community.people["alice"], "steward help")
    assert member_help.ephemeral
    assert "/desk ask" in member_help.text
    assert "/steward settings set" not in member_help.text
    admin_help = await community.slash(community.people["ada"], "steward help")
    assert "/steward settings set <feature> <key> <value>" in admin_help.text


async def test_buttons_selects_and_forms_reach_the_feature(community: Community) -> None:
    alice, bob = community.people["alice"], community.people["bob"]
    asked = await community.slash(alice, "desk ask")
    assert not asked.ephemeral and asked.text == "Do you like it?"
    pressed = await community.click(bob, asked, "yes")
    assert pressed.ephemeral and pressed.text == "You pressed yes (1)"
    picked = await community.select(bob, asked, "pick", ["red", "blue"])
    assert picked.text == "You picked red, blue"
    opened = await community.slash(alice, "desk feedback")
    assert opened.form is not None
    sent = await community.submit(alice, opened, {"text": "Lovely bot"})
    assert sent.ephemeral and sent.text == "Thanks for: Lovely bot"


async def test_newcomer_is_welcomed_by_dm(community: Community) -> None:
    nina = await community.member_joins("nina")
    assert sorted(m.text for m in community.dms_of(nina)) == [
        "Welcome to the garden",
        "Welcome, nina!",
    ]


async def test_relayed_text_pings_nobody(community: Community) -> None:
    ada, alice = community.people["ada"], community.people["alice"]
    text = f"@everyone @here {community.mention(alice)} hello"
    posted = await community.slash(ada, "desk echo", text=text)
    assert posted.text == "Posted."
    [message] = community.messages_in("general")
    assert "hello" in message.text
    assert community.pings_of(alice) == []
