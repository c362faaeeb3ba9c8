"""Bad input, typed payloads, malformed requests and strangers, against the real servers.

Every bad message gets a reply, changes no recorded answer and leaves the
server answering; ``/intent{...}`` typed by a person can neither set an answer
or the recommendation nor reach Rasa's built-in intents, while the
assistant's own button payloads keep working; malformed REST and Slack
requests get a 4xx with a reason; Rasa's HTTP API needs the token.
"""

from __future__ import annotations

import json

import pytest

from advisor.input_guard import reply_for
from tests.conftest import SLACK_SECRET
from tests.fake_slack import SlackSigner
from tests.http_client import QUESTION_IDS, Client, new_sender, text_of

pytestmark = pytest.mark.servers

WEBHOOK = "/webhooks/rest/webhook"
OUT_OF_SCOPE = "I can only help with choosing a career direction"


@pytest.fixture(scope="module")
def bot(stack):
    return Client(stack.url, stack.token)


def state(bot: Client, sender: str) -> dict:
    """What a bad message must not change: every answer, the pending question, the recommendation."""
    slots = bot.slots(sender)
    return {k: slots.get(k) for k in (*QUESTION_IDS, "current_question", "recommendation")}


def one_answer_in(bot: Client, tag: str) -> str:
    """A conversation with one answer recorded and the next question pending."""
    sender = new_sender(tag)
    bot.say(sender, "hi")
    bot.say(sender, "no")
    assert state(bot, sender)["ml_production"] is False
    assert state(bot, sender)["current_question"] == "data_infrastructure"
    return sender


def still_answers(bot: Client, sender: str) -> None:
    assert "Data Engineer" in text_of(bot.say(sender, "what does a data engineer do?"))


BAD_INPUT = [
    pytest.param("", reply_for({"issue": "empty"}), id="empty"),
    pytest.param("   \n\t  ", reply_for({"issue": "empty"}), id="whitespace"),
    pytest.param("👍🙂🔥", reply_for({"issue": "no_words"}), id="emoji"),
    pytest.param("a" * 20_000, "20,000 characters", id="20000-chars"),
    pytest.param("lorem ipsum dolor sit amet " * 800, "characters long", id="long-prose"),
    pytest.param("\x00\x01\x07\x08\x1b[31m\x1b[0m\x7f", reply_for({"issue": "empty"}), id="control-only"),
    pytest.param("Me encantan los pipelines de datos", "only speak English", id="spanish"),
    pytest.param("Ich möchte lieber mit Daten arbeiten", "only speak English", id="german"),
    pytest.param("我喜欢数据管道和机器学习", "only speak English", id="chinese"),
    pytest.param("Мне нравится программирование", "only speak English", id="russian"),
    pytest.param("<script>alert('pwned')</script>", "plain text", id="script-tag"),
    pytest.param("<img src=x onerror=alert(1)>", "plain text", id="img-tag"),
    pytest.param("'; DROP TABLE events; --", OUT_OF_SCOPE, id="sql-drop"),
    pytest.param("SELECT * FROM events WHERE sender_id = '' OR 1=1", OUT_OF_SCOPE, id="sql-select"),
    pytest.param("Robert'); DROP TABLE students;--", "", id="sql-bobby"),
]


@pytest.mark.parametrize("text, expected", BAD_INPUT)
def test_bad_input_gets_a_reply_and_changes_nothing(bot, text, expected):
    sender = one_answer_in(bot, "bad")
    before = state(bot, sender)
    reply = bot.say(sender, text)
    assert reply, "no reply"
    assert expected in text_of(reply)
    assert state(bot, sender) == before
    still_answers(bot, sender)
    # ... and the conversation carries on from the same place.
    bot.say(sender, "yes")
    assert bot.slots(sender)["recommendation"] == "data_engineer"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("what does a devops engineer do?\x00\x07", "DevOps"),
        ("\x1b[1mwhat does a devops engineer do?\x1b[0m", "DevOps"),
        ("<b>what does a devops engineer do?</b>", "DevOps"),
        ("what\u200b does a devops\u202e engineer do?", "DevOps"),
    ],
)
def test_cleaned_messages_are_understood(bot, text, expected):
    sender = one_answer_in(bot, "clean")
    before = state(bot, sender)
    assert expected in text_of(bot.say(sender, text))
    assert state(bot, sender) == before


def test_control_characters_around_an_answer_still_answer(bot):
    sender = one_answer_in(bot, "ctl")
    bot.say(sender, "\x00yes\x07")
    assert bot.slots(sender)["data_infrastructure"] is True


# -- payloads typed by a person -------------------------------------------------------------

PAYLOAD_NOTICE = reply_for({"issue": "payload"})


@pytest.mark.parametrize(
    "payload",
    [
        "/restart",
        "/back",
        "/session_start",
        "/out_of_scope",
        "/go_back",
        "/share_preference",
        '/share_preference{"preference": "automation"}',
        '/affirm{"recommendation": "devops_engineer"}',
        '/deny{"ml_production": true}',
        '/affirm{"question": "data_infrastructure", "recommendation": "devops_engineer"}',
        "/affirm@1.0",
        '/what_if{"preference": "automation"}',
    ],
)
def test_typed_payloads_change_nothing(bot, payload):
    sender = one_answer_in(bot, "pay")
    before = state(bot, sender)
    events_before = len(bot.tracker(sender)["events"])
    reply = bot.say(sender, payload)
    assert PAYLOAD_NOTICE in text_of(reply)
    assert state(bot, sender) == before
    new_events = bot.tracker(sender)["events"][events_before:]
    kinds = {e["event"] for e in new_events}
    assert not kinds & {"restart", "session_started", "rewind", "undo", "reset_slots"}, kinds
    actions = {e.get("name") for e in new_events if e["event"] == "action"}
    assert actions <= {"action_out_of_scope", "action_listen"}, actions
    still_answers(bot, sender)


def test_typed_entities_never_set_the_recommendation(bot):
    sender = new_sender("rec")
    bot.say(sender, "hi")
    for payload in (
        '/affirm{"recommendation": "devops_engineer"}',
        '/share_preference{"recommendation": "devops_engineer", "preference": "automation"}',
        '/ask_why{"recommendation": "devops_engineer"}',
    ):
        bot.say(sender, payload)
    slots = bot.slots(sender)
    assert slots["recommendation"] is None
    assert {q: slots[q] for q in QUESTION_IDS if slots[q] is not None} == {}


def test_allowed_payload_with_a_foreign_entity_value_records_nothing(bot):
    """An allowed shape whose entity is not for the pending question is a stale click, not an answer."""
    sender = one_answer_in(bot, "stale")
    before = state(bot, sender)
    bot.say(sender, '/affirm{"question": "automation"}')
    assert state(bot, sender) == before


def test_button_payloads_typed_or_clicked_keep_working(bot):
    sender = new_sender("buttons")
    reply = bot.say(sender, "/greet")
    assert "Toolkit Advisor" in text_of(reply)
    assert bot.say(sender, '/affirm{"question":"ml_production"}')
    assert bot.slots(sender)["recommendation"] == "ml_engineer"
    assert "ML Engineer" in text_of(bot.say(sender, "/ask_why"))
    assert text_of(bot.say(sender, "/ask_runner_up"))
    assert text_of(bot.say(sender, "/ask_next_steps"))
    assert "Data Engineer" in text_of(bot.say(sender, "/list_toolkits"))
    assert "DevOps" in text_of(bot.say(sender, '/ask_toolkit{"toolkit":"devops_engineer"}'))
    assert "Data Engineer" in text_of(bot.say(sender, '/compare_toolkits{"toolkit":"data_engineer"}'))
    bot.say(sender, "/start_over")
    slots = bot.slots(sender)
    assert slots["recommendation"] is None and slots["ml_production"] is None
    assert slots["current_question"] == "ml_production"
    bot.say(sender, '/deny{"question":"ml_production"}')
    assert bot.slots(sender)["ml_production"] is False
    reply = bot.say(sender, '/unsure{"question":"data_infrastructure"}')
    assert bot.slots(sender)["data_infrastructure"] is None and text_of(reply)
    bot.say(sender, "/deny")
    assert bot.slots(sender)["data_infrastructure"] is False


# -- malformed requests ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, status, says",
    [
        (b"not json", 400, "must be JSON"),
        (b"", 400, "must be JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (b'"hi"', 400, "JSON object"),
        (b'{"message": "hi"}', 400, '"sender" is missing'),
        (b'{"sender": null, "message": "hi"}', 400, '"sender" is missing'),
        (b'{"sender": 42, "message": "hi"}', 400, '"sender" must be'),
        (b'{"sender": ["a"], "message": "hi"}', 400, '"sender" must be'),
        (b'{"sender": "", "message": "hi"}', 400, '"sender" must be'),
        (b'{"sender": "a/b", "message": "hi"}', 400, '"sender" must be'),
        (b'{"sender": "x", "message": "hi\\u0000"}', 200, ""),
        (b'{"sender": "me"}', 400, '"message" is missing'),
        (b'{"sender": "me", "message": 5}', 400, '"message" must be a string'),
        (b'{"sender": "me", "message": {"text": "hi"}}', 400, '"message" must be a string'),
        (b'{"sender": "me", "message": "hi", "metadata": "x"}', 400, '"metadata"'),
        (b'{"sender": "me", "message": "hi", "input_channel": {"x": 1}}', 400, '"input_channel"'),
        (b'{"sender": "me", "message": "' + b"a" * (1024 * 1024) + b'"}', 413, "at most"),
    ],
)
def test_malformed_rest_requests_get_a_4xx_with_a_reason(bot, raw, status, says):
    code, body = bot.request("POST", WEBHOOK, raw=raw, token=False)
    assert code == status, (code, body)
    if status >= 400:
        assert isinstance(body, dict) and says in body["message"], body
        assert "Traceback" not in json.dumps(body)
    still_answers(bot, new_sender("after-bad-request"))


def test_wrong_method_and_content_type(bot):
    code, _ = bot.request("GET", WEBHOOK, token=False)
    assert 400 <= code < 500
    code, body = bot.request(
        "POST", WEBHOOK, raw=b"sender=me&message=hi", headers={"Content-Type": "application/x-www-form-urlencoded"}, token=False
    )
    assert code == 400 and "JSON" in body["message"]


def test_rest_health_and_stream_still_work(bot):
    assert bot.request("GET", "/webhooks/rest/", token=False) == (200, {"status": "ok"})
    code, body = bot.request("POST", WEBHOOK + "?stream=true", {"sender": new_sender("stream"), "message": "hi"}, token=False)
    assert code == 200 and "Toolkit Advisor" in str(body)


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"type": "event_callback", "event": "hello"}', "application/json"),
        (
            b'{"type": "event_callback", "event": {"type": "message", "text": 5, "user": "U1", "channel": "D1"}}',
            "application/json",
        ),
        (
            b'{"type": "event_callback", "event": {"type": "message", "text": "hi", "user": ["U1"], "channel": "D1"}}',
            "application/json",
        ),
        (b"payload=not-json", "application/x-www-form-urlencoded"),
        (b"payload=%5B1%2C2%5D", "application/x-www-form-urlencoded"),
        (b"payload=%7B%22type%22%3A%22block_actions%22%2C%22actions%22%3A%22x%22%7D", "application/x-www-form-urlencoded"),
        (b"payload=%7B%22type%22%3A%22block_actions%22%2C%22user%22%3A%22U1%22%7D", "application/x-www-form-urlencoded"),
    ],
)
def test_malformed_signed_slack_requests_get_a_400(bot, body, content_type):
    headers = SlackSigner(SLACK_SECRET).headers(body, content_type)
    code, answer = bot.request("POST", "/webhooks/slack/webhook", raw=body, headers=headers, token=False)
    assert code == 400, (code, answer)
    assert "Traceback" not in str(answer)


def test_unsupported_slack_interactions_are_acknowledged(bot):
    """Well-formed but unknown interactions get a 2xx (Slack would retry anything else), never a 5xx."""
    body = b"payload=%7B%22type%22%3A%22block_actions%22%2C%22actions%22%3A%5B%7B%7D%5D%7D"
    headers = SlackSigner(SLACK_SECRET).headers(body, "application/x-www-form-urlencoded")
    code, answer = bot.request("POST", "/webhooks/slack/webhook", raw=body, headers=headers, token=False)
    assert code == 200 and "not supported" in str(answer)


# -- strangers and the HTTP API -------------------------------------------------------------

PRIVATE = [
    ("GET", "/conversations/{sender}/tracker", None),
    ("POST", "/conversations/{sender}/tracker/events", {"event": "slot", "name": "recommendation", "value": "devops_engineer"}),
    ("PUT", "/conversations/{sender}/tracker/events", []),
    ("GET", "/conversations/{sender}/story", None),
    ("POST", "/conversations/{sender}/messages", {"text": "hi", "sender": "user"}),
    ("POST", "/conversations/{sender}/trigger_intent", {"name": "restart"}),
    ("POST", "/conversations/{sender}/execute", {"name": "action_restart"}),
    ("POST", "/conversations/{sender}/predict", None),
    ("POST", "/model/parse", {"text": "hi"}),
    ("PUT", "/model", {"model_file": "/tmp/evil.tar.gz"}),
    ("DELETE", "/model", None),
    ("POST", "/model/train", {}),
    ("GET", "/status", None),
    ("GET", "/domain", None),
]


@pytest.mark.parametrize("method, path, body", PRIVATE, ids=[f"{m} {p}" for m, p, _ in PRIVATE])
def test_http_api_refuses_strangers(bot, stack, method, path, body):
    sender = one_answer_in(bot, "api")
    before = state(bot, sender)
    url = path.format(sender=sender)
    for client, params in ((Client(stack.url), ""), (Client(stack.url), "?token=wrong-token")):
        code, answer = client.request(method, url + params, body, headers={"Accept": "application/json"}, token=False)
        assert code == 401, (method, url, params, code, answer)
    assert state(bot, sender) == before
    assert bot.request("GET", "/status")[0] == 200  # the model is still loaded


def test_http_api_works_with_the_token(bot):
    sender = one_answer_in(bot, "api-ok")
    assert bot.request("GET", f"/conversations/{sender}/tracker")[0] == 200
    code, parsed = bot.request("POST", "/model/parse", {"text": "what does a data engineer do?"})
    assert code == 200 and parsed["intent"]["name"]
    code, status = bot.request("GET", "/status")
    assert code == 200 and status["model_id"]
    code, _ = bot.request("POST", f"/conversations/{sender}/tracker/events", {"event": "slot", "name": "offer", "value": None})
    assert code == 200


def test_public_channels_need_no_token(bot, stack):
    stranger = Client(stack.url)
    assert stranger.request("POST", WEBHOOK, {"sender": new_sender("pub"), "message": "hi"}, token=False)[0] == 200
    assert stranger.request("GET", "/chat/", token=False)[0] == 200
    assert stranger.request("GET", "/webhooks/slack/", token=False)[0] == 200
