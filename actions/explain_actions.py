"""Why, why not, what if, runner-up, next steps and the decision record."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.catalogue_actions import entity_values
from actions.tracker_state import LAST_TOOLKIT, OFFER, reading_from_tracker, send, state_from_tracker
from advisor import catalogue_answers, explain
from advisor.catalogue import get_catalogue
from advisor.messages import Reply
from advisor.preferences import NO, YES
from advisor.resume import resume


def _toolkit(tracker: Tracker, catalogue, *fallbacks: str):
    """The toolkit the message names, else the first of the fallback slots that holds one."""
    named = catalogue_answers.resolve_toolkits(entity_values(tracker, "toolkit"), catalogue)
    if named:
        return named[0]
    for slot in fallbacks:
        found = catalogue_answers.find_toolkit(tracker.get_slot(slot) or "", catalogue)
        if found is not None:
            return found
    return None


class ActionExplainWhy(Action):
    def name(self) -> str:
        return "action_explain_why"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        catalogue = get_catalogue()
        state = state_from_tracker(tracker, catalogue)
        reply = explain.why(catalogue, state)
        reply.extend(resume(catalogue, state))
        send(dispatcher, reply)
        return []


class ActionExplainWhyNot(Action):
    def name(self) -> str:
        return "action_explain_why_not"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        catalogue = get_catalogue()
        state = state_from_tracker(tracker, catalogue)
        toolkit = _toolkit(tracker, catalogue)
        reply = (
            explain.why_not(catalogue, state, toolkit) if toolkit else catalogue_answers.which_toolkit(catalogue, "ask_why_not")
        )
        reply.extend(resume(catalogue, state))
        send(dispatcher, reply)
        return [SlotSet(LAST_TOOLKIT, toolkit.id)] if toolkit else []


class ActionWhatIf(Action):
    """Explore a changed answer without recording it; offer to make it real."""

    def name(self) -> str:
        return "action_what_if"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        catalogue = get_catalogue()
        state = state_from_tracker(tracker, catalogue)
        reading = reading_from_tracker(tracker, catalogue)
        changes = {p.question_id: p.value for p in reading.preferences if p.value is not None}
        if not changes and state.current_question and reading.stance in (YES, NO):
            changes = {state.current_question: reading.stance == YES}  # "what if I said yes?"
        result = explain.what_if(catalogue, state, changes)
        send(dispatcher, result.reply)
        offer = {"kind": "what_if", "changes": result.changes, "said": tracker.latest_message.get("text") or ""}
        return [SlotSet(OFFER, offer if result.changes else None)]


class ActionRunnerUp(Action):
    def name(self) -> str:
        return "action_runner_up"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        catalogue = get_catalogue()
        state = state_from_tracker(tracker, catalogue)
        result = explain.runner_up(catalogue, state)
        reply = result.reply
        if result.toolkit is None:
            reply.extend(resume(catalogue, state))
        send(dispatcher, reply)
        offer = {"kind": "answer", "question": result.open_question.id} if result.open_question else None
        events: List[EventType] = [SlotSet(OFFER, offer)]
        if result.toolkit is not None:
            events.append(SlotSet(LAST_TOOLKIT, result.toolkit.id))
        return events


class ActionNextSteps(Action):
    def name(self) -> str:
        return "action_next_steps"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        catalogue = get_catalogue()
        state = state_from_tracker(tracker, catalogue)
        toolkit = _toolkit(tracker, catalogue, "recommendation", LAST_TOOLKIT)
        if toolkit is None:
            reply = Reply()
            reply.say("Next steps depend on where you're heading. Let's finish the questions first - or pick a toolkit:")
            reply.extend(catalogue_answers.which_toolkit(catalogue, "ask_next_steps"))
        else:
            reply = explain.next_steps(catalogue, toolkit)
        reply.extend(resume(catalogue, state))
        send(dispatcher, reply)
        return [SlotSet(LAST_TOOLKIT, toolkit.id)] if toolkit else []


class ActionSummarise(Action):
    """The decision record: text everywhere, JSON in the custom payload."""

    def name(self) -> str:
        return "action_summarise"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        catalogue = get_catalogue()
        state = state_from_tracker(tracker, catalogue)
        reply = explain.summary(catalogue, state, dt.date.today())
        reply.extend(resume(catalogue, state))
        send(dispatcher, reply)
        return []
