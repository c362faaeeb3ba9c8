"""A tiny client for the running assistant: REST channel + HTTP API."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Any, Optional

QUESTION_IDS = (
    "ml_production",
    "data_infrastructure",
    "full_stack",
    "server_side",
    "user_interfaces",
    "automation",
    "product_strategy",
)


class Client:
    def __init__(self, url: str, token: str = "", timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        raw: Optional[bytes] = None,
        headers: Optional[dict] = None,
        token: bool = True,
    ) -> tuple[int, Any]:
        url = self.url + path
        if token and self.token:
            url += ("&" if "?" in url else "?") + "token=" + self.token
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        req = urllib.request.Request(
            url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                payload = resp.read()
                status = resp.status
        except urllib.error.HTTPError as err:
            payload, status = err.read(), err.code
        try:
            return status, json.loads(payload or b"null")
        except ValueError:
            return status, payload.decode(errors="replace")

    def say(self, sender: str, text: str) -> list[dict]:
        status, messages = self.request("POST", "/webhooks/rest/webhook", {"sender": sender, "message": text}, token=False)
        assert status == 200, (status, messages)
        return messages or []

    def tracker(self, sender: str) -> dict:
        status, tracker = self.request("GET", f"/conversations/{sender}/tracker")
        assert status == 200, (status, tracker)
        return tracker

    def slots(self, sender: str) -> dict:
        return self.tracker(sender)["slots"]

    def answers(self, sender: str) -> dict:
        slots = self.slots(sender)
        return {q: slots[q] for q in QUESTION_IDS if slots.get(q) is not None}


def new_sender(tag: str = "test") -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}"


def text_of(messages: list[dict]) -> str:
    parts = []
    for m in messages:
        parts.append(m.get("text") or "")
        parts.extend(b.get("title", "") for b in m.get("buttons") or [])
    return "\n".join(p for p in parts if p)
