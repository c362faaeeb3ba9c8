"""The channel adapters without servers: Slack formatting and posting, configuration, origin checks."""

from __future__ import annotations

import asyncio
import logging
import os
from unittest import mock

import pytest
from rasa.core.run import create_http_input_channels

from channels.rest import RestInput  # Rasa's REST channel plus request checks (credentials.yml)
from channels.slack import MAX_BUTTONS, SlackConnector, SlackOutput, button_blocks, to_mrkdwn
from channels.webchat import WebChatInput, WebChatOutput
from tests.conftest import PROJECT
from tests.fake_slack import FakeSlackAPI

BUTTONS = [{"title": t, "payload": f'/choose{{"x":"{t}"}}'} for t in ("Yes", "No", "Not sure")]


# -- Slack formatting -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "markdown, mrkdwn",
    [
        (
            "Tools: [Apache Spark](https://spark.apache.org/docs/latest/), [AWS](https://aws.amazon.com/)",
            "Tools: <https://spark.apache.org/docs/latest/|Apache Spark>, <https://aws.amazon.com/|AWS>",
        ),
        ("My recommendation: **Data Engineer** - pipelines", "My recommendation: *Data Engineer* - pipelines"),
        ("Fish & chips <b>", "Fish &amp; chips &lt;b&gt;"),
        ("[click](javascript:alert)", "click"),
        ("[file](ftp://x.example/f)", "file"),
        ("# Decision record\n- **Recommendation:** ML", "*Decision record*\n• *Recommendation:* ML"),
        ("[a|b](https://x.example/?q=1|2)", "<https://x.example/?q=1%7C2|a/b>"),
    ],
)
def test_markdown_becomes_slack_mrkdwn(markdown, mrkdwn):
    assert to_mrkdwn(markdown) == mrkdwn


def test_buttons_become_an_actions_block():
    blocks = button_blocks("Question?", BUTTONS)
    assert blocks[0] == {"type": "section", "text": {"type": "mrkdwn", "text": "Question?"}}
    elements = blocks[1]["elements"]
    assert [e["text"]["text"] for e in elements] == ["Yes", "No", "Not sure"]
    assert [e["value"] for e in elements] == [b["payload"] for b in BUTTONS]
    assert len({e["action_id"] for e in elements}) == 3


@pytest.fixture
def fake_api():
    api = FakeSlackAPI().start()
    yield api
    api.stop()


def post_with(fake_api, method, *args):
    async def run():
        output = SlackOutput("xoxb-unit", None, None, None, fake_api.url)
        await getattr(output, method)(*args)

    asyncio.run(run())
    return fake_api.posts("D1")


def test_up_to_five_buttons_are_posted_as_blocks(fake_api):
    five = [{"title": f"Option {i}", "payload": f"/o{i}"} for i in range(MAX_BUTTONS)]
    (post,) = post_with(fake_api, "send_text_with_buttons", "D1", "Pick **one**", five)
    assert post["text"] == "Pick *one*"
    assert len(post["blocks"][1]["elements"]) == 5
    assert post["auth"] == "Bearer xoxb-unit"


def test_more_than_five_buttons_fall_back_to_a_text_list(fake_api):
    six = [{"title": f"Option {i}", "payload": f"/o{i}"} for i in range(MAX_BUTTONS + 1)]
    (post,) = post_with(fake_api, "send_text_with_buttons", "D1", "Which one?", six)
    assert "blocks" not in post
    assert post["text"].splitlines()[:3] == ["Which one?", "• Option 0", "• Option 1"]


def test_a_long_text_with_buttons_is_split_to_respect_the_section_limit(fake_api):
    text = "word " * 800
    first, second = post_with(fake_api, "send_text_with_buttons", "D1", text, BUTTONS)
    assert first["text"].startswith("word") and "blocks" not in first
    assert [b["type"] for b in second["blocks"]] == ["actions"]


def test_web_only_payloads_are_not_posted_to_slack(fake_api):
    assert post_with(fake_api, "send_custom_json", "D1", {"type": "comparison", "rows": []}) == []


# -- configuration ----------------------------------------------------------------------------


def no_slack_env():
    return mock.patch.dict(os.environ, {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}, clear=True)


def test_credentials_yml_loads_without_slack_variables(caplog):
    with no_slack_env(), caplog.at_level(logging.INFO, logger="channels.slack"):
        channels = create_http_input_channels(None, str(PROJECT / "credentials.yml"))
    by_type = {type(c): c for c in channels}
    assert set(by_type) == {RestInput, WebChatInput, SlackConnector}
    assert not by_type[SlackConnector].enabled
    assert by_type[WebChatInput].session_persistence is True
    messages = [r.getMessage() for r in caplog.records if r.name == "channels.slack"]
    assert len(messages) == 1 and messages[0].startswith("Slack channel disabled")


def test_slack_reads_its_settings_from_the_environment():
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s3cret",
        "SLACK_CHANNEL": "C42",
        "SLACK_API_URL": "http://127.0.0.1:9/api",
    }
    with no_slack_env(), mock.patch.dict(os.environ, env):
        connector = SlackConnector.from_credentials({})
    assert connector.enabled
    assert (connector.slack_token, connector.slack_signing_secret, connector.slack_channel) == ("xoxb-1", "s3cret", "C42")
    assert connector.api_url == "http://127.0.0.1:9/api/"
    assert str(connector.get_output_channel("D1").client.base_url) == "http://127.0.0.1:9/api/"


def test_slack_variable_names_can_be_changed_in_credentials():
    with no_slack_env(), mock.patch.dict(os.environ, {"MY_TOKEN": "xoxb-2", "MY_SECRET": "s"}):
        connector = SlackConnector.from_credentials({"slack_token_env": "MY_TOKEN", "slack_signing_secret_env": "MY_SECRET"})
    assert connector.enabled and connector.api_url == "https://slack.com/api/"


# -- web chat ---------------------------------------------------------------------------------


def test_web_chat_allows_its_own_origin_and_listed_ones_only(caplog):
    credentials = {"cors_allowed_origins": ["https://site.example/", "*"], "session_persistence": True}
    with mock.patch.dict(os.environ, {"WEBCHAT_ALLOWED_ORIGINS": "http://embed.example:8080, *"}):
        channel = WebChatInput.from_credentials(credentials)
    environ = {"wsgi.url_scheme": "http", "HTTP_HOST": "localhost:5005"}
    assert channel.origin_allowed("http://localhost:5005", environ)
    assert channel.origin_allowed("http://embed.example:8080", environ)
    assert channel.origin_allowed("https://site.example", environ)
    assert not channel.origin_allowed("http://127.0.0.1:5005", environ)  # another origin than the page's
    assert not channel.origin_allowed("http://evil.example", environ)
    assert "*" not in channel.allowed_origins
    assert sum("never '*'" in r.getMessage() for r in caplog.records) == 2


def test_web_chat_sends_one_event_per_bot_message():
    emitted = []

    class Sio:
        async def emit(self, event, data=None, room=None, **kwargs):
            emitted.append((event, data, room))

    message = {
        "text": "Frontend vs Backend\n\nIn common: Python.",
        "buttons": [{"title": "Yes", "payload": "/affirm"}],
        "custom": {"type": "comparison", "rows": []},
        "image": None,
    }
    asyncio.run(WebChatOutput(Sio(), "bot_uttered").send_response("session-1", dict(message)))
    assert emitted == [
        (
            "bot_uttered",
            {
                "text": message["text"],
                "quick_replies": [{"content_type": "text", "title": "Yes", "payload": "/affirm"}],
                "custom": message["custom"],
            },
            "session-1",
        )
    ]
