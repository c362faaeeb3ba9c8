"""Actions that walk the decision list: record answers, ask, recommend, restart."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.tracker_state import send, slot_events, state_from_tracker, turn_from_tracker
from advisor.catalogue import get_catalogue
from advisor.dialogue import State, Turn, advance, undo


class ActionAdvance(Action):
    """Record what the latest message answers, then ask the next question or recommend."""

    def name(self) -> str:
        return "action_advance"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        catalogue = get_catalogue()
        result = advance(catalogue, state_from_tracker(tracker, catalogue), turn_from_tracker(tracker, catalogue))
        send(dispatcher, result.reply)
        return slot_events(result.state, catalogue, tracker)


class ActionStartOver(Action):
    """Forget every answer and ask the first question again."""

    def name(self) -> str:
        return "action_start_over"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        catalogue = get_catalogue()
        dispatcher.utter_message(text="Let's start over - I've cleared all your answers.")
        result = advance(catalogue, State(), Turn(intent="start_over"))
        send(dispatcher, result.reply)
        return slot_events(result.state, catalogue, tracker)


class ActionGoBack(Action):
    """Take back the most recent answer and ask again from there."""

    def name(self) -> str:
        return "action_go_back"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        catalogue = get_catalogue()
        result = undo(catalogue, state_from_tracker(tracker, catalogue))
        send(dispatcher, result.reply)
        return slot_events(result.state, catalogue, tracker)
