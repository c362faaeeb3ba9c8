"""Slack: Rasa's Slack connector, configured from the environment.

Why not Rasa's built-in ``slack:`` section:

- **Starts without Slack.** Secrets come from environment variables, never from
  a committed file. Rasa expands ``${VAR}`` in credentials.yml only when the
  value is unquoted and raises when the variable is unset, and its Slack
  connector refuses to start without a signing secret - so a machine without
  Slack set up would not start at all. This connector reads the *names* of the
  variables from credentials.yml and, when the token or the signing secret is
  missing, logs one line and answers Slack's URL with 503 instead.
- **Any Web API base URL.** ``SLACK_API_URL`` (default Slack's own) reaches
  GovSlack, an enterprise proxy, or the tests' fake Slack on loopback.
- **What a person sees in Slack.** Markdown from the catalogue is converted to
  Slack's mrkdwn (``[text](url)`` -> ``<url|text>``, ``**bold**`` -> ``*bold*``);
  buttons become a Block Kit ``actions`` block when there are at most five
  (more fall back to a text list); a clicked button's message is updated to
  show the choice, so old buttons cannot answer a later question.
- **Each event answered once.** Requests are checked with Slack's signature
  (``v0:{timestamp}:{body}``, HMAC-SHA256, at most five minutes old) before
  anything is read; a redelivered ``event_id`` or a retry after Slack's
  ``http_timeout`` is acknowledged without reaching the bot; the bot's own
  messages and message edits are ignored.
- **Malformed requests get a 400.** A signed request whose JSON is not shaped
  like Slack's (not an object, an ``event`` that is not an object, a ``text``
  that is not a string, ...) is answered with 400 and a one-line reason,
  never a 500 with Rasa's internals.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from collections import OrderedDict
from http import HTTPStatus
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.slack import SlackBot, SlackInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
MAX_BUTTONS = 5  # what the issue and Slack's older clients allow in one row
SECTION_LIMIT = 3000  # characters in a section block's text (Block Kit limit)
BUTTON_TITLE_LIMIT = 75
SEEN_EVENTS = 2000  # event ids remembered to drop redeliveries

# Names of the environment variables, overridable in credentials.yml.
ENV_KEYS = {
    "slack_token_env": "SLACK_BOT_TOKEN",
    "slack_signing_secret_env": "SLACK_SIGNING_SECRET",
    "slack_channel_env": "SLACK_CHANNEL",
    "slack_api_url_env": "SLACK_API_URL",
}

_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_HEADING = re.compile(r"^#{1,6}\s+(.*)$")
_BULLET = re.compile(r"^(\s*)[-*]\s+")


def _escape(text: str) -> str:
    """Slack's three control characters (https://api.slack.com/reference/surfaces/formatting#escaping)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _inline(text: str) -> str:
    out: List[str] = []
    last = 0
    for match in _LINK.finditer(text):
        out.append(_BOLD.sub(r"*\1*", _escape(text[last : match.start()])))
        label, url = match.group(1), match.group(2)
        if url.startswith(("http://", "https://")):
            out.append(f"<{url.replace('>', '%3E').replace('|', '%7C')}|{_escape(label).replace('|', '/')}>")
        else:
            out.append(_escape(label))
        last = match.end()
    out.append(_BOLD.sub(r"*\1*", _escape(text[last:])))
    return "".join(out)


def to_mrkdwn(markdown: str) -> str:
    """The catalogue's Markdown as Slack mrkdwn: links, bold, headings, bullets."""
    lines = []
    for line in markdown.splitlines():
        heading = _HEADING.match(line)
        if heading:
            lines.append(f"*{_inline(heading.group(1)).replace('*', '')}*")
            continue
        bullet = _BULLET.match(line)
        if bullet:
            line = f"{bullet.group(1)}• {line[bullet.end() :]}"
        lines.append(_inline(line))
    return "\n".join(lines)


def button_blocks(text: str, buttons: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """A section with the text and an actions block with one button per choice."""
    blocks: List[Dict[str, Any]] = []
    if text:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    blocks.append(
        {
            "type": "actions",
            "block_id": "choices",
            "elements": [
                {
                    "type": "button",
                    "action_id": f"choice-{index}",
                    "text": {"type": "plain_text", "text": str(button["title"])[:BUTTON_TITLE_LIMIT], "emoji": True},
                    "value": str(button["payload"]),
                }
                for index, button in enumerate(buttons)
            ],
        }
    )
    return blocks


# What a signed but malformed request raises while it is read (wrong JSON shapes).
MALFORMED = (ValueError, TypeError, KeyError, IndexError, AttributeError)


def _json_object(body: bytes) -> Dict[str, Any]:
    """The request body as a JSON object; ValueError for anything else."""
    try:
        data = json.loads(body or b"")
    except ValueError:
        raise ValueError("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


class SlackOutput(SlackBot):
    """Posts to the Web API at ``api_url`` in Slack's own formatting."""

    def __init__(
        self,
        token: str,
        slack_channel: Optional[str] = None,
        thread_id: Optional[str] = None,
        proxy: Optional[str] = None,
        api_url: str = DEFAULT_API_URL,
    ) -> None:
        super().__init__(token, slack_channel, thread_id, proxy)
        self.client = AsyncWebClient(token, base_url=api_url, proxy=proxy)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._post_message(channel=self.slack_channel or recipient_id, text=to_mrkdwn(text), mrkdwn=True)

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any) -> None:
        channel = self.slack_channel or recipient_id
        if len(buttons) > MAX_BUTTONS:
            choices = "\n".join(f"• {b['title']}" for b in buttons)
            await self.send_text_message(channel, f"{text}\n{choices}\n_Reply with one of these._")
            return
        mrkdwn = to_mrkdwn(text)
        if len(mrkdwn) > SECTION_LIMIT:
            await self._post_message(channel=channel, text=mrkdwn, mrkdwn=True)
            mrkdwn = ""
        fallback = mrkdwn or "Choose: " + ", ".join(str(b["title"]) for b in buttons)
        await self._post_message(channel=channel, text=fallback, blocks=button_blocks(mrkdwn, buttons))

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        # The web page's tables and downloads; Slack already got the same content as text.
        if json_message.get("type") in {"comparison", "decision_record"}:
            return
        await super().send_custom_json(recipient_id, json_message, **kwargs)


class SlackConnector(SlackInput):
    """Rasa's Slack channel, enabled only when its environment variables are set."""

    @classmethod
    def name(cls) -> str:
        return "slack"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> SlackConnector:
        credentials = credentials or {}
        names = {key: credentials.get(key) or default for key, default in ENV_KEYS.items()}
        token = os.environ.get(names["slack_token_env"], "").strip()
        secret = os.environ.get(names["slack_signing_secret_env"], "").strip()
        connector = cls(
            token,
            os.environ.get(names["slack_channel_env"], "").strip() or None,
            credentials.get("proxy"),
            credentials.get("slack_retry_reason_header", "x-slack-retry-reason"),
            credentials.get("slack_retry_number_header", "x-slack-retry-num"),
            credentials.get("errors_ignore_retry"),
            credentials.get("use_threads", False),
            secret,
            credentials.get("conversation_granularity", "sender"),
            api_url=os.environ.get(names["slack_api_url_env"], "").strip() or DEFAULT_API_URL,
        )
        if connector.enabled:
            logger.info("Slack channel enabled: Web API at %s.", connector.api_url)
        else:
            missing = [names[k] for k, v in (("slack_token_env", token), ("slack_signing_secret_env", secret)) if not v]
            logger.warning(
                "Slack channel disabled: set %s to enable it (see README, 'Slack'). /webhooks/slack/webhook answers 503.",
                " and ".join(missing),
            )
        return connector

    def __init__(self, *args: Any, api_url: str = DEFAULT_API_URL, **kwargs: Any) -> None:
        self.api_url = api_url if api_url.endswith("/") else api_url + "/"
        self._seen_events: OrderedDict[str, None] = OrderedDict()
        super().__init__(*args, **kwargs)

    @property
    def enabled(self) -> bool:
        return bool(self.slack_token and self.slack_signing_secret)

    def _validate_credentials(self) -> None:
        """Missing secrets disable the channel instead of stopping Rasa."""

    def is_request_from_slack_authentic(self, request: Request) -> bool:
        try:
            valid = SignatureVerifier(self.slack_signing_secret).is_valid(
                request.body,
                request.headers.get("X-Slack-Request-Timestamp"),
                request.headers.get("X-Slack-Signature"),
            )
        except ValueError:  # a timestamp that is not a number
            valid = False
        if not valid:
            logger.warning("Slack: rejected a request without a valid signature or with a stale timestamp.")
        return valid

    def get_output_channel(self, channel: Optional[str] = None, thread_id: Optional[str] = None) -> OutputChannel:
        return SlackOutput(self.slack_token, channel or self.slack_channel, thread_id, self.proxy, self.api_url)

    @staticmethod
    def _is_user_message(slack_event: Dict[str, Any]) -> bool:
        event = slack_event.get("event") or {}
        own_ids = {a.get("user_id") for a in slack_event.get("authorizations") or [] if a.get("is_bot")}
        return (
            SlackInput._is_user_message(slack_event)
            and event.get("subtype") in (None, "thread_broadcast", "file_share")
            and not event.get("bot_profile")
            and event.get("user") not in own_ids
        )

    def _first_delivery(self, event_id: Optional[str]) -> bool:
        """False for an event id already handled (Slack redelivers until it gets a 2xx in 3 s)."""
        if not event_id:
            return True
        if event_id in self._seen_events:
            return False
        self._seen_events[event_id] = None
        while len(self._seen_events) > SEEN_EVENTS:
            self._seen_events.popitem(last=False)
        return True

    async def _show_choice(self, payload: Dict[str, Any], choice: str) -> None:
        """Replace a clicked message's buttons with the choice made."""
        channel = (payload.get("channel") or {}).get("id")
        message = payload.get("message") or {}
        ts = (payload.get("container") or {}).get("message_ts") or message.get("ts")
        if not channel or not ts:
            return
        blocks = [b for b in message.get("blocks") or [] if b.get("type") != "actions"]
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"You chose: *{_escape(choice)}*"}]})
        try:
            client = AsyncWebClient(self.slack_token, base_url=self.api_url, proxy=self.proxy)
            await client.chat_update(channel=channel, ts=ts, text=message.get("text") or choice, blocks=blocks)
        except Exception as err:  # the answer matters more than the cosmetic update
            logger.warning("Slack: could not update the clicked message: %s", err)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        slack_webhook = Blueprint("slack_webhook", __name__)

        @slack_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.enabled else "disabled"})

        @slack_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not self.enabled:
                return response.text("Slack is not configured on this server.", status=HTTPStatus.SERVICE_UNAVAILABLE)
            if not self.is_request_from_slack_authentic(request):
                return response.text(
                    "Message is not properly signed with a valid X-Slack-Signature header", status=HTTPStatus.BAD_REQUEST
                )
            content_type = (request.headers.get("content-type") or "").split(";")[0].strip()
            try:
                if content_type == "application/json":
                    return await self._handle_event(request, on_new_message)
                if content_type == "application/x-www-form-urlencoded":
                    return await self._handle_interaction(request, on_new_message)
            except MALFORMED as err:
                # A signed request whose JSON is not what Slack sends: a 400 with a reason,
                # never a 500. (The bot's own errors cannot land here: Rasa runs the turn
                # as a background task after this handler has answered.)
                logger.warning("Slack: rejected a malformed request: %s", err)
                return response.text(f"Malformed Slack request: {err}", status=HTTPStatus.BAD_REQUEST)
            return response.text("Unsupported content type.", status=HTTPStatus.BAD_REQUEST)

        return slack_webhook

    async def _handle_event(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        body = _json_object(request.body)
        event = body.get("event")
        if event is not None and not isinstance(event, dict):
            raise ValueError('"event" must be an object')
        for key in ("text", "user", "channel", "type"):
            if event and event.get(key) is not None and not isinstance(event[key], str):
                raise ValueError(f'"event.{key}" must be a string')
        if body.get("type") == "url_verification":
            return response.json({"challenge": body.get("challenge", "")})
        if not self._first_delivery(body.get("event_id")):
            logger.info("Slack: event %s delivered again; already handled.", body.get("event_id"))
            return response.text("", status=HTTPStatus.OK, headers={"X-Slack-No-Retry": "1"})
        if not self._is_user_message(body):
            return response.text("Not a user message; ignored.")
        metadata = self.get_metadata(request)
        if not self._is_supported_channel(body, metadata):
            logger.info("Slack: message in unsupported channel %s ignored.", metadata.get("out_channel"))
            return response.text("channel not supported.")
        event = body["event"]
        conversation_id = self._get_conversation_id(event.get("user"), metadata.get("out_channel"), metadata.get("thread_id"))
        text = self._sanitize_user_message(event.get("text", ""), metadata["users"])
        return await self.process_message(request, on_new_message, text, conversation_id, metadata)

    async def _handle_interaction(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        try:
            payload = json.loads(request.form.get("payload", ""))
        except ValueError:
            return response.text("No interactive payload.", status=HTTPStatus.BAD_REQUEST)
        if not isinstance(payload, dict):
            raise ValueError("the interactive payload must be an object")
        actions = payload.get("actions")
        if actions is not None and not (isinstance(actions, list) and all(isinstance(a, dict) for a in actions)):
            raise ValueError('"actions" must be a list of objects')
        if not isinstance(payload.get("user") or {}, dict):
            raise ValueError('"user" must be an object')
        if not self._is_interactive_message(payload):
            return response.text("Interaction not supported.")
        action = payload["actions"][0]
        text = self._get_interactive_response(action)
        if text is not None and not isinstance(text, str):
            raise ValueError("the chosen value must be a string")
        if text is None:
            return response.text("User clicked link button")
        metadata = self.get_metadata(request)
        conversation_id = self._get_conversation_id(
            (payload.get("user") or {}).get("id"), metadata.get("out_channel"), metadata.get("thread_id")
        )
        title = ((action.get("text") or {}).get("text")) or text
        task = asyncio.create_task(self._show_choice(payload, title))
        self._background_tasks.add(task)
        task.add_done_callback(self._background_tasks.discard)
        return await self.process_message(request, on_new_message, text, conversation_id, metadata)
