"""Scripted conversations for the cluster tests, and the check of what the tracker store kept.

A conversation sends its turns through a list of Rasa servers in turn (turn
``i`` to server ``(offset + i) % n``), records what each answered, and, when a
server dies under it, finishes the turn on another one without sending a
message twice: after a broken connection it first asks the tracker store
whether the turn was recorded before the crash, and resends only if it was not.
"""

from __future__ import annotations

import http.client
import socket
import threading
import urllib.error
from dataclasses import dataclass, field
from typing import Optional

from tests.http_client import Client

# (turns, expected recommendation). Plain answers walk the decision list - the first
# "yes" wins, all "no" keeps the computer vision toolkit; two use free text that
# answers several questions at once.
SCRIPTS: list[tuple[list[str], str]] = [
    (["hi", "yes"], "ml_engineer"),
    (["hi", "no", "yes"], "data_engineer"),
    (["hi", "no", "no", "yes"], "fullstack_engineer"),
    (["hi", "no", "no", "no", "yes"], "backend_engineer"),
    (["hi", "no", "no", "no", "no", "yes"], "frontend_engineer"),
    (["hi", "no", "no", "no", "no", "no", "yes"], "devops_engineer"),
    (["hi", "no", "no", "no", "no", "no", "no", "yes"], "product_manager"),
    (["hi", "no", "no", "no", "no", "no", "no", "no"], "computer_vision_engineer"),
    (["hello", "I love data pipelines but deploying models bores me", "why?"], "data_engineer"),
    (["hello", "no", "not really", "React and CSS are my favourite things", "nope", "no"], "frontend_engineer"),
]

CONNECTION_ERRORS = (urllib.error.URLError, ConnectionError, http.client.HTTPException, socket.timeout, OSError)


class Servers:
    """The Rasa servers a test talks to, and which of them are known to be down."""

    def __init__(self, urls: list[str], token: str, timeout: float = 60.0) -> None:
        self.clients = [Client(url, token, timeout=timeout) for url in urls]
        self.down: set[int] = set()
        self.errors: list[str] = []
        self._lock = threading.Lock()

    def mark_down(self, index: int, error: BaseException) -> None:
        with self._lock:
            self.down.add(index)
            self.errors.append(f"server {index + 1}: {error!r}")

    def up(self, preferred: int) -> list[int]:
        """Server indexes to try, the preferred one first, known-down ones left out."""
        n = len(self.clients)
        order = [(preferred + k) % n for k in range(n)]
        return [i for i in order if i not in self.down]


@dataclass
class Conversation:
    sender: str
    turns: list[str]
    expected: str
    offset: int = 0
    # For each turn sent: the bot texts it answered with, or None when the answer was
    # lost with a crashed server (the turn itself was found in the tracker store).
    replies: list[Optional[list[Optional[str]]]] = field(default_factory=list)
    served_by: list[int] = field(default_factory=list)
    recovered: int = 0

    @property
    def done(self) -> bool:
        return len(self.replies) == len(self.turns)

    def send_next(self, servers: Servers) -> None:
        index = len(self.replies)
        text = self.turns[index]
        for server in servers.up(self.offset + index):
            client = servers.clients[server]
            try:
                message = {"sender": self.sender, "message": text}
                status, body = client.request("POST", "/webhooks/rest/webhook", message, token=False)
            except CONNECTION_ERRORS as err:
                servers.mark_down(server, err)
                if self._recorded(servers, index):
                    self.replies.append(None)
                    self.served_by.append(server)
                    self.recovered += 1
                    return
                continue
            assert status == 200, (self.sender, text, status, body)
            self.replies.append([m.get("text") for m in body or []])
            self.served_by.append(server)
            return
        raise AssertionError(f"{self.sender}: no Rasa server answered turn {index} ({text!r}): {servers.errors}")

    def _recorded(self, servers: Servers, index: int) -> bool:
        """Whether turn `index` reached the tracker store before its server died."""
        for server in servers.up(self.offset + index + 1):
            try:
                events = servers.clients[server].tracker(self.sender)["events"]
            except CONNECTION_ERRORS as err:
                servers.mark_down(server, err)
                continue
            return len(user_texts(events)) > index
        raise AssertionError(f"{self.sender}: no Rasa server left to ask: {servers.errors}")

    def run(self, servers: Servers, upto: Optional[int] = None) -> None:
        upto = len(self.turns) if upto is None else upto
        while len(self.replies) < upto:
            self.send_next(servers)


def conversations(tag: str, count: int = 20) -> list[Conversation]:
    import uuid

    run = uuid.uuid4().hex[:6]
    return [
        Conversation(f"{tag}-{run}-{i:02d}", list(SCRIPTS[i % len(SCRIPTS)][0]), SCRIPTS[i % len(SCRIPTS)][1], offset=i)
        for i in range(count)
    ]


def user_texts(events: list[dict]) -> list[str]:
    return [e.get("text") for e in events if e.get("event") == "user"]


def check_events(conversation: Conversation, events: list[dict]) -> None:
    """The stored events are the conversation, complete and in order.

    Every turn sent is there once, in order; each is followed by exactly one
    round of bot actions ending in one ``action_listen`` (no turn answered
    twice, none half-stored); the bot messages stored are the ones the client
    received; timestamps never go back.
    """
    who = conversation.sender
    assert user_texts(events) == conversation.turns, (who, user_texts(events), conversation.turns)
    stamps = [e["timestamp"] for e in events if e.get("timestamp") is not None]
    assert stamps == sorted(stamps), (who, "events out of order")
    starts = [i for i, e in enumerate(events) if e.get("event") == "user"] + [len(events)]
    for turn, (start, end) in enumerate(zip(starts, starts[1:], strict=False)):
        segment = events[start + 1 : end]
        actions = [e.get("name") for e in segment if e.get("event") == "action"]
        assert actions.count("action_listen") == 1 and actions[-1] == "action_listen", (who, turn, actions)
        assert sum(1 for e in segment if e.get("event") == "user") == 0
        received = conversation.replies[turn]
        if received is not None:
            stored = [e.get("text") for e in segment if e.get("event") == "bot"]
            assert stored == received, (who, turn, stored, received)


def check_conversation(conversation: Conversation, client: Client) -> None:
    """Recommendation reached and the stored events complete (read through `client`)."""
    tracker = client.tracker(conversation.sender)
    assert tracker["slots"]["recommendation"] == conversation.expected, (conversation.sender, tracker["slots"])
    assert tracker["slots"]["current_question"] is None
    check_events(conversation, tracker["events"])
