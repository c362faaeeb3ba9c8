"""Answer questions about the catalogue at any point, then pick up the pending question."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.tracker_state import LAST_TOOLKIT, intent_of, send, state_from_tracker
from advisor import catalogue_answers
from advisor.aspects import aspect_of
from advisor.catalogue import get_catalogue
from advisor.messages import Reply
from advisor.resume import resume


def entity_values(tracker: Tracker, entity: str) -> List[str]:
    """Values in message order; payload entities ({"toolkit": "x"}) count too (they only select what to show)."""
    found = sorted(
        (e for e in tracker.latest_message.get("entities", []) if e.get("entity") == entity),
        key=lambda e: e.get("start") or 0,
    )
    return [e["value"] for e in found if isinstance(e.get("value"), str)]


class ActionAnswerCatalogueQuestion(Action):
    """Describe, compare or list toolkits, from the catalogue."""

    def name(self) -> str:
        return "action_answer_catalogue_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        catalogue = get_catalogue()
        intent = intent_of(tracker)
        toolkits = catalogue_answers.resolve_toolkits(entity_values(tracker, "toolkit"), catalogue)
        context = catalogue_answers.find_toolkit(tracker.get_slot(LAST_TOOLKIT) or "", catalogue)
        recommended = catalogue_answers.find_toolkit(tracker.get_slot("recommendation") or "", catalogue)
        events: List[EventType] = []
        reply = Reply()
        if intent == "list_toolkits":
            reply = catalogue_answers.list_toolkits(catalogue)
        elif intent == "compare_toolkits":
            pair = toolkits[:2]
            for candidate in (context, recommended):
                if len(pair) < 2 and candidate is not None and candidate not in pair:
                    pair.append(candidate)
            if len(pair) == 2:
                reply = catalogue_answers.compare(pair[0], pair[1], catalogue)
                events.append(SlotSet(LAST_TOOLKIT, pair[-1].id))
            else:
                reply.say('Which two toolkits should I compare? For example: "compare data engineer and backend engineer".')
        else:
            toolkit = toolkits[0] if toolkits else (context or recommended)
            tools = [t for v in entity_values(tracker, "tool") if (t := catalogue_answers.find_tool(v, catalogue))]
            text = tracker.latest_message.get("text") or ""
            if not toolkits and tools:
                reply = catalogue_answers.describe_tools(tools, catalogue)  # "MLflow and W&B, which role uses those?"
            elif toolkit is None:
                reply = catalogue_answers.which_toolkit(catalogue, "ask_toolkit")
            else:
                aspect = aspect_of(text, about_starting_point=toolkit.id == catalogue.fallback.toolkit)
                reply = catalogue_answers.describe(toolkit, catalogue, aspect)
                events.append(SlotSet(LAST_TOOLKIT, toolkit.id))
        reply.extend(resume(catalogue, state_from_tracker(tracker, catalogue)))
        send(dispatcher, reply)
        return events
