"""Slack against the real Rasa server: signed Events API and interactivity requests in,
Web API calls out to a fake Slack on loopback (SLACK_API_URL)."""

from __future__ import annotations

import json
import os
import time
import urllib.parse
import uuid
from unittest import mock

import pytest

from tests.conftest import SLACK_SECRET, SLACK_TOKEN
from tests.fake_slack import BOT_USER, SlackSigner, block_action, message_event, wait_for
from tests.http_client import Client

pytestmark = pytest.mark.servers

WEBHOOK = "/webhooks/slack/webhook"
SPARK = "<https://spark.apache.org/docs/latest/|Apache Spark>"


@pytest.fixture(scope="module")
def api(stack):
    return Client(stack.url, stack.token)


@pytest.fixture(scope="module")
def signer():
    return SlackSigner(SLACK_SECRET)


@pytest.fixture
def dm():
    """A fresh user and DM channel per test, so conversations never mix."""
    tag = uuid.uuid4().hex[:8].upper()
    return f"U{tag}", f"D{tag}"


def post_event(api: Client, signer: SlackSigner, body: dict, headers: dict | None = None, **sign) -> tuple[int, object]:
    raw = json.dumps(body).encode()
    return api.request("POST", WEBHOOK, raw=raw, headers={**signer.headers(raw, "application/json", **sign), **(headers or {})})


def post_click(api: Client, signer: SlackSigner, payload: dict) -> tuple[int, object]:
    raw = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    return api.request("POST", WEBHOOK, raw=raw, headers=signer.headers(raw, "application/x-www-form-urlencoded"))


def say(api, signer, fake_slack, user, channel, text, expect: str) -> list[dict]:
    """Send a DM and wait until a reply containing `expect` was posted to the channel."""
    before = len(fake_slack.posts(channel))
    status, _ = post_event(api, signer, message_event(text, user, channel))
    assert status == 200
    return wait_for(lambda: _new_posts_with(fake_slack, channel, before, expect))


def click(api, signer, fake_slack, user, channel, title: str, expect: str) -> list[dict]:
    posted = [p for p in fake_slack.posts(channel) if p.get("blocks")][-1]
    before = len(fake_slack.posts(channel))
    status, _ = post_click(api, signer, block_action(posted, title, user, channel))
    assert status == 200
    return wait_for(lambda: _new_posts_with(fake_slack, channel, before, expect))


def _new_posts_with(fake_slack, channel: str, before: int, expect: str) -> list[dict]:
    new = fake_slack.posts(channel)[before:]
    return new if any(expect in p.get("text", "") for p in new) else []


def user_events(api: Client, sender: str) -> list[dict]:
    return [e for e in api.tracker(sender)["events"] if e["event"] == "user"]


# -- requests Slack signs ----------------------------------------------------------------------


def test_url_verification_challenge(api, signer):
    body = {"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"}
    status, reply = post_event(api, signer, body)
    assert status == 200 and reply == {"challenge": body["challenge"]}


@pytest.mark.parametrize(
    "tamper",
    ["wrong signature", "missing signature", "missing timestamp", "stale timestamp", "future timestamp", "other secret"],
)
def test_unsigned_or_stale_requests_are_rejected(api, signer, fake_slack, dm, tamper):
    user, channel = dm
    body = message_event("hi", user, channel)
    raw = json.dumps(body).encode()
    if tamper == "stale timestamp":
        headers = signer.headers(raw, "application/json", timestamp=int(time.time()) - 5 * 60 - 30)
    elif tamper == "future timestamp":
        headers = signer.headers(raw, "application/json", timestamp=int(time.time()) + 5 * 60 + 30)
    elif tamper == "other secret":
        headers = SlackSigner("not-the-secret").headers(raw, "application/json")
    else:
        headers = signer.headers(raw, "application/json")
        if tamper == "wrong signature":
            headers["X-Slack-Signature"] = "v0=" + "0" * 64
        elif tamper == "missing signature":
            del headers["X-Slack-Signature"]
        elif tamper == "missing timestamp":
            del headers["X-Slack-Request-Timestamp"]
    status, _ = api.request("POST", WEBHOOK, raw=raw, headers=headers)
    assert status == 400
    time.sleep(0.5)
    assert user_events(api, user) == []
    assert fake_slack.posts(channel) == []


def test_a_body_changed_after_signing_is_rejected(api, signer, dm):
    user, channel = dm
    raw = json.dumps(message_event("hi", user, channel)).encode()
    headers = signer.headers(raw, "application/json")
    status, _ = api.request("POST", WEBHOOK, raw=raw.replace(b'"hi"', b'"yes"'), headers=headers)
    assert status == 400
    assert user_events(api, user) == []


def test_a_retry_after_http_timeout_is_not_answered_twice(api, signer, fake_slack, dm):
    user, channel = dm
    body = message_event("hello there", user, channel)
    assert post_event(api, signer, body)[0] == 200
    wait_for(lambda: fake_slack.posts(channel))
    time.sleep(1.0)
    answered = len(fake_slack.posts(channel))
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    status, _ = post_event(api, signer, body, headers=retry)
    assert status in (200, 201)
    # The same event redelivered for another reason is not answered twice either.
    status, _ = post_event(api, signer, body, headers={"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"})
    assert status in (200, 201)
    time.sleep(1.5)
    assert len(fake_slack.posts(channel)) == answered
    assert [e["text"] for e in user_events(api, user)] == ["hello there"]


def test_the_bots_own_messages_are_ignored(api, signer, fake_slack, dm):
    _, channel = dm
    own = message_event("First question: Are you passionate about ...?", BOT_USER, channel, bot=True)
    assert post_event(api, signer, own)[0] == 200
    edited = message_event("edited", BOT_USER, channel)
    edited["event"]["subtype"] = "message_changed"
    assert post_event(api, signer, edited)[0] == 200
    time.sleep(1.0)
    assert fake_slack.posts(channel) == []
    assert user_events(api, BOT_USER) == []


# -- conversations ------------------------------------------------------------------------------


def test_dm_conversation_by_text(api, signer, fake_slack, dm):
    user, channel = dm
    posts = say(api, signer, fake_slack, user, channel, "hi", "First question")
    question = [p for p in posts if p.get("blocks")][-1]
    actions = [b for b in question["blocks"] if b["type"] == "actions"][0]
    assert [e["text"]["text"] for e in actions["elements"]] == ["Yes", "No", "Not sure"]
    assert all(p["auth"] == f"Bearer {SLACK_TOKEN}" for p in posts)

    posts = say(api, signer, fake_slack, user, channel, "I love data pipelines but deploying models bores me", "recommendation")
    text = "\n".join(p["text"] for p in posts)
    assert "*Data Engineer*" in text and "**" not in text
    assert SPARK in text and "](" not in text
    slots = api.slots(user)
    assert slots["recommendation"] == "data_engineer"
    assert api.tracker(user)["latest_input_channel"] == "slack"


def test_dm_conversation_by_button_clicks(api, signer, fake_slack, dm):
    user, channel = dm
    say(api, signer, fake_slack, user, channel, "hello", "First question")
    click(api, signer, fake_slack, user, channel, "No", "foundational systems")
    # The clicked message is updated: its buttons replaced by the choice made.
    updates = wait_for(lambda: fake_slack.posts(channel, method="chat.update"))
    assert not any(b["type"] == "actions" for b in updates[0]["blocks"])
    assert "You chose: *No*" in json.dumps(updates[0]["blocks"])
    click(api, signer, fake_slack, user, channel, "No", "complete software applications")
    posts = click(api, signer, fake_slack, user, channel, "Yes", "recommendation")
    assert any("*Fullstack Engineer*" in p["text"] for p in posts)
    slots = api.slots(user)
    assert (slots["ml_production"], slots["data_infrastructure"], slots["full_stack"]) == (False, False, True)
    assert slots["recommendation"] == "fullstack_engineer"


def test_more_than_five_choices_become_a_text_list(api, signer, fake_slack, dm):
    user, channel = dm
    posts = say(api, signer, fake_slack, user, channel, "/ask_toolkit", "Which toolkit")
    listing = [p for p in posts if "Which toolkit" in p["text"]][-1]
    assert not listing.get("blocks")
    assert "• Data Engineer" in listing["text"] and "• Product Manager" in listing["text"]


def test_without_slack_variables_rasa_starts_with_slack_disabled(tmp_path):
    """A machine without Slack secrets (a developer's, CI) still starts; one log line says why Slack is off."""
    from ops.stack import Stack, free_port, http_get

    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    bare = Stack(rasa_port=free_port(), model=tmp_path, log_dir=tmp_path / "logs")
    bare.env = {"ACTION_SERVER_URL": "http://127.0.0.1:9/webhook"}
    try:
        with mock.patch.dict(os.environ, env, clear=True):
            process = bare.spawn("rasa-without-slack", bare.rasa_command())
        bare._wait(process, lambda: http_get(f"{bare.url}/")[0] == 200, timeout=120)
        status, body = Client(bare.url).request("POST", WEBHOOK, {"type": "url_verification", "challenge": "x"})
        assert status == 503 and "not configured" in body
        assert http_get(f"{bare.url}/webhooks/slack/")[1] == b'{"status":"disabled"}'
        assert http_get(f"{bare.url}/chat/")[0] == 200
    finally:
        bare.stop()
    lines = [line for line in (tmp_path / "logs" / "rasa-without-slack.log").read_text().splitlines() if "Slack" in line]
    assert len(lines) == 1 and "Slack channel disabled: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET" in lines[0]
