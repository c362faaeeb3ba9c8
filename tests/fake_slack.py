"""A fake Slack: the Web API on loopback, and requests signed the way Slack signs them.

The Slack connector under test is Rasa's real server with ``SLACK_API_URL``
pointing here; this server answers the Web API methods the connector calls
(``chat.postMessage``, ``chat.update``) as Slack does and records every call,
so tests read what a Slack user would have seen. The request builders produce
Events API and interactivity requests with Slack's own body shapes and its
``v0`` HMAC-SHA256 signature (made with slack_sdk's ``SignatureVerifier``).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional

from slack_sdk.signature import SignatureVerifier

BOT_USER = "UBOT0001"
BOT_ID = "BBOT0001"
TEAM = "T0TEAM001"


class FakeSlackAPI:
    """Records Web API calls; ``url`` is what SLACK_API_URL should be set to."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                if "json" in (self.headers.get("Content-Type") or ""):
                    args = json.loads(raw or "{}")
                else:
                    args = {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}
                method = self.path.rsplit("/", 1)[-1]
                reply = api.record(method, args, self.headers.get("Authorization", ""))
                body = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-slack", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def start(self) -> FakeSlackAPI:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)

    def record(self, method: str, args: dict[str, Any], auth: str) -> dict[str, Any]:
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        with self._lock:
            self.calls.append({"method": method, "args": args, "auth": auth, "ts": ts})
        if method == "chat.postMessage":
            message = {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "ts": ts, **args}
            return {"ok": True, "channel": args.get("channel"), "ts": ts, "message": message}
        if method == "chat.update":
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts"), "text": args.get("text", "")}
        return {"ok": True}

    def posts(self, channel: Optional[str] = None, method: str = "chat.postMessage") -> list[dict[str, Any]]:
        with self._lock:
            return [
                {**c["args"], "ts": c["ts"], "auth": c["auth"]}
                for c in self.calls
                if c["method"] == method and (channel is None or c["args"].get("channel") == channel)
            ]


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


class SlackSigner:
    """Builds requests as Slack sends them to the Events API / interactivity URL."""

    def __init__(self, secret: str) -> None:
        self.verifier = SignatureVerifier(secret)

    def headers(self, body: bytes, content_type: str, timestamp: Optional[int] = None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": self.verifier.generate_signature(timestamp=ts, body=body) or "",
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }


def message_event(
    text: str, user: str, channel: str, *, bot: bool = False, event_id: Optional[str] = None, channel_type: str = "im"
) -> dict[str, Any]:
    ts = f"{time.time():.6f}"
    event: dict[str, Any] = {
        "type": "message",
        "channel": channel,
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": channel_type,
        "client_msg_id": str(uuid.uuid4()),
        "team": TEAM,
    }
    if bot:
        event.pop("client_msg_id")
        event.update(
            {"bot_id": BOT_ID, "app_id": "A0APP0001", "user": BOT_USER, "bot_profile": {"id": BOT_ID, "name": "Toolkit Advisor"}}
        )
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM,
        "api_app_id": "A0APP0001",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [
            {"enterprise_id": None, "team_id": TEAM, "user_id": BOT_USER, "is_bot": True, "is_enterprise_install": False}
        ],
        "is_ext_shared_channel": False,
    }


def block_action(posted: dict[str, Any], title: str, user: str, channel: str) -> dict[str, Any]:
    """The interactive payload Slack sends when `user` clicks the button `title` of a posted message."""
    blocks = posted.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    for block in blocks:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element["text"]["text"] == title:
                action = {**element, "block_id": block.get("block_id", "b"), "action_ts": f"{time.time():.6f}"}
                break
        else:
            continue
        break
    else:
        raise AssertionError(f"no button {title!r} in {blocks}")
    message = {
        "type": "message",
        "user": BOT_USER,
        "bot_id": BOT_ID,
        "text": posted.get("text", ""),
        "ts": posted["ts"],
        "blocks": blocks,
    }
    return {
        "type": "block_actions",
        "user": {"id": user, "username": "ana", "name": "ana", "team_id": TEAM},
        "api_app_id": "A0APP0001",
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": posted["ts"], "channel_id": channel, "is_ephemeral": False},
        "trigger_id": f"{int(time.time())}.1.{uuid.uuid4().hex[:8]}",
        "team": {"id": TEAM, "domain": "example"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": "directmessage"},
        "message": message,
        "state": {"values": {}},
        "response_url": "https://hooks.slack.com/actions/T0TEAM001/1/abc",
        "actions": [action],
    }
