"""The REST channel, with requests checked before they reach the bot.

Rasa's own ``rest`` channel trusts its callers: a body that is not a JSON
object answers 500 (``[1, 2]``, an empty body), a missing ``sender`` silently
becomes the shared conversation ``"default"``, a number or a list as
``sender`` becomes its ``str()``, and a missing or non-string ``message`` is
swallowed with an empty 200. This subclass keeps everything else of Rasa's
channel - the URL (its :meth:`name` is ``rest``, so it stays
``/webhooks/rest/webhook``), the response format, ``?stream=true``, and the
way a failing turn is answered - and answers a malformed request with a 4xx
and a one-line JSON explanation, never a 500 and never a stack trace:

- 413 when the body is larger than ``max_body_bytes`` (credentials.yml);
- 400 when the body is not a JSON object, or ``sender`` is missing or not a
  plain identifier (letters, digits and ``_ . : @ + = -``, at most 128
  characters - sender ids end up in URLs such as
  ``/conversations/<sender>/tracker``), or ``message`` is missing or not a
  string, or ``metadata`` is not an object, or ``input_channel`` is not a
  short name.

What the message *says* is not judged here: an empty, over-long, non-English
or payload-looking message is a valid request that gets a reply, decided for
every channel alike by the first NLU component (``components/input_guard.py``).

Registered in credentials.yml as ``channels.rest.RestInput`` instead of ``rest:``.
"""

from __future__ import annotations

import json
import logging
import re
from http import HTTPStatus
from typing import Any, Awaitable, Callable, Dict, Optional, Union

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

logger = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 1024 * 1024  # 20,000 characters of emoji, JSON-escaped, still fit
SENDER_ID = re.compile(r"^[A-Za-z0-9_.:@+=\-]{1,128}$")
CHANNEL_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


class BadRequest(ValueError):
    """A request the channel refuses, with the status and the message to answer."""

    def __init__(self, message: str, status: HTTPStatus = HTTPStatus.BAD_REQUEST) -> None:
        super().__init__(message)
        self.status = status


def error_response(message: str, status: HTTPStatus) -> HTTPResponse:
    """Rasa's error shape (as its HTTP API answers), without any internals."""
    return response.json(
        {"status": "failure", "reason": status.phrase.replace(" ", ""), "message": message, "code": int(status)},
        status=int(status),
    )


class RestInput(RasaRestInput):
    """Rasa's REST channel with request validation (see the module docstring)."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> RestInput:
        credentials = credentials or {}
        return cls(max_body_bytes=int(credentials.get("max_body_bytes") or DEFAULT_MAX_BODY_BYTES))

    def __init__(self, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.max_body_bytes = max_body_bytes

    def parse(self, request: Request) -> Dict[str, Any]:
        """The request's fields, checked; raises :class:`BadRequest` with what is wrong."""
        body = request.body or b""
        if len(body) > self.max_body_bytes:
            raise BadRequest(
                f"The request body is {len(body):,} bytes; at most {self.max_body_bytes:,} are accepted.",
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            )
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise BadRequest('The request body must be JSON: {"sender": "<id>", "message": "<text>"}.') from None
        if not isinstance(data, dict):
            raise BadRequest('The request body must be a JSON object: {"sender": "<id>", "message": "<text>"}.')
        sender = data.get("sender")
        if sender is None:
            raise BadRequest('"sender" is missing: give the conversation id as a string, e.g. "sender": "me".')
        if not isinstance(sender, str) or not SENDER_ID.match(sender):
            raise BadRequest('"sender" must be a string of 1 to 128 letters, digits or _ . : @ + = - (the conversation id).')
        message = data.get("message")
        if message is None:
            raise BadRequest('"message" is missing: give the text the person typed, e.g. "message": "hi".')
        if not isinstance(message, str):
            raise BadRequest('"message" must be a string (the text the person typed).')
        metadata = data.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise BadRequest('"metadata", when given, must be a JSON object.')
        input_channel = data.get("input_channel")
        if input_channel is not None and not (isinstance(input_channel, str) and CHANNEL_NAME.match(input_channel)):
            raise BadRequest('"input_channel", when given, must be a short name (letters, digits, _ . -).')
        return {"sender": sender, "message": message, "metadata": metadata, "input_channel": input_channel or self.name()}

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        rest_webhook = Blueprint("rest_webhook", __name__)

        @rest_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @rest_webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> Union[ResponseStream, HTTPResponse]:
            try:
                fields = self.parse(request)
            except BadRequest as err:
                logger.info("REST channel: rejected a request (%d): %s", err.status, err)
                return error_response(str(err), err.status)
            if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
                return response.stream(
                    self.stream_response(
                        on_new_message, fields["message"], fields["sender"], fields["input_channel"], fields["metadata"]
                    ),
                    content_type="text/event-stream",
                )
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        fields["message"],
                        collector,
                        fields["sender"],
                        input_channel=fields["input_channel"],
                        metadata=fields["metadata"],
                    )
                )
            except Exception:
                # As Rasa's channel does: log, and answer with what was said so far
                # (the tracker store's response middleware may turn this into a 503).
                logger.exception("REST channel: the turn for sender %s failed.", fields["sender"])
            return response.json(collector.messages)

        return rest_webhook
