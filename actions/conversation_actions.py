"""Asides that are not about careers: out of scope, help, small talk."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.tracker_state import send, slot_events, state_from_tracker, turn_from_tracker
from advisor.catalogue import get_catalogue
from advisor.dialogue import advance
from advisor.input_guard import reply_for
from advisor.messages import Reply
from advisor.resume import resume

EMPTY = "Your message reached me empty - type a few words, or use the buttons."
OUT_OF_SCOPE = (
    "I can only help with choosing a career direction from computer vision - "
    "I can't help with that one. You can ask me about any toolkit, compare two, or answer my question."
)


class ActionOutOfScope(Action):
    """Politely redirect; record nothing; keep the pending question.

    A low-confidence message that still states a clear preference ("k8s all
    day long") is not out of scope: it is handed to the decision logic as a
    statement of preference.
    """

    def name(self) -> str:
        return "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        catalogue = get_catalogue()
        state = state_from_tracker(tracker, catalogue)
        turn = turn_from_tracker(tracker, catalogue)
        guard_notice = input_guard_notice(tracker)
        if guard_notice:
            return explain_input_issue(dispatcher, guard_notice, catalogue, state)
        if turn.intent == "nlu_fallback" and any(p.explicit and p.value is not None for p in turn.reading.stated):
            result = advance(catalogue, state, turn_from_tracker(tracker, catalogue, intent="share_preference"))
            send(dispatcher, result.reply)
            return slot_events(result.state, catalogue, tracker)
        reply = Reply()
        reply.say(OUT_OF_SCOPE if turn.text.strip() else EMPTY)
        reply.extend(resume(catalogue, state))
        send(dispatcher, reply)
        return []


# -- messages the input guard did not let through (components/input_guard.py) ----------
# Kept apart from the dialogue logic above: the guard empties such a message
# before NLU (so it arrives here as nlu_fallback) and says why in the parse
# data; this only explains it and repeats the pending question. Nothing is
# recorded, so a bad message never changes an answer.


def input_guard_notice(tracker: Tracker) -> str:
    """The explanation for a message the input guard flagged, or ""."""
    issue = tracker.latest_message.get("input_guard")
    return (reply_for(issue) or "") if isinstance(issue, dict) else ""


def explain_input_issue(dispatcher: CollectingDispatcher, notice: str, catalogue: Any, state: Any) -> List[EventType]:
    reply = Reply()
    reply.say(notice)
    reply.extend(resume(catalogue, state))
    send(dispatcher, reply)
    return []


class ActionResume(Action):
    """After help, thanks or small talk: repeat the pending question, if any."""

    def name(self) -> str:
        return "action_resume"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        catalogue = get_catalogue()
        send(dispatcher, resume(catalogue, state_from_tracker(tracker, catalogue)))
        return []
