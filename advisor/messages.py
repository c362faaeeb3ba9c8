"""Channel-neutral bot messages.

Replies are composed as :class:`Message` objects (text, quick-reply buttons,
an optional custom payload) so that the same content reaches ``rasa shell``,
REST, the web widget and Slack; the Rasa action layer turns them into
``dispatcher.utter_message`` calls.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass(frozen=True)
class Button:
    title: str
    payload: str

    def as_dict(self) -> dict[str, str]:
        return {"title": self.title, "payload": self.payload}


@dataclass(frozen=True)
class Message:
    text: str = ""
    buttons: tuple[Button, ...] = ()
    custom: Optional[dict[str, Any]] = None

    def as_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``CollectingDispatcher.utter_message``."""
        kwargs: dict[str, Any] = {}
        if self.text:
            kwargs["text"] = self.text
        if self.buttons:
            kwargs["buttons"] = [b.as_dict() for b in self.buttons]
        if self.custom is not None:
            kwargs["json_message"] = self.custom
        return kwargs


@dataclass
class Reply:
    """The messages of one bot turn, in order."""

    messages: list[Message] = field(default_factory=list)

    def say(self, text: str, buttons: tuple[Button, ...] = (), custom: Optional[dict[str, Any]] = None) -> None:
        self.messages.append(Message(text, tuple(buttons), custom))

    def extend(self, other: Reply) -> None:
        self.messages.extend(other.messages)

    @property
    def text(self) -> str:
        return "\n".join(m.text for m in self.messages if m.text)


def intent_payload(intent: str, **entities: Any) -> str:
    """A button payload in Rasa's ``/intent{"entity": "value"}`` syntax."""
    if not entities:
        return f"/{intent}"
    return f"/{intent}{json.dumps(entities, separators=(',', ':'))}"
