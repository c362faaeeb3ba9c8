"""Translate between Rasa's tracker and the plain ``advisor`` types.

Only entities added by our own NLU component (``extractor ==
"PreferenceExtractor"``) count as answers: entities typed by hand in Rasa's
``/intent{"entity": "value"}`` syntax carry Rasa's ``RegexMessageHandler`` (or
no extractor) and are ignored, so nobody can set an answer or the
recommendation by typing a payload. (The input guard, the first NLU component,
already lets through only the payloads the buttons send.)
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from advisor.answers import records_by_question
from advisor.catalogue import Catalogue
from advisor.dialogue import State, Turn
from advisor.messages import Reply
from advisor.preferences import Preference, Reading

TRUSTED_EXTRACTOR = "PreferenceExtractor"
PAYLOAD_EXTRACTORS = (None, "RegexMessageHandler")  # entities of a /intent{...} payload

# Slot names beyond the one-per-question answer slots.
CURRENT_QUESTION = "current_question"
RECOMMENDATION = "recommendation"
ANSWER_LOG = "answer_log"
EXPLAINED_QUESTION = "explained_question"
LAST_TOOLKIT = "last_toolkit"
OFFER = "offer"


def state_from_tracker(tracker: Tracker, catalogue: Catalogue) -> State:
    answers: Dict[str, Optional[bool]] = {}
    for question_id in catalogue.question_ids:
        value = tracker.get_slot(question_id)
        answers[question_id] = value if isinstance(value, bool) else None
    current = tracker.get_slot(CURRENT_QUESTION)
    recommendation = tracker.get_slot(RECOMMENDATION)
    records = {q: r for q, r in records_by_question(tracker.get_slot(ANSWER_LOG)).items() if answers.get(q) == r.value}
    offer = tracker.get_slot(OFFER)
    return State(
        answers=answers,
        current_question=current if current in catalogue.question_ids else None,
        recommendation=recommendation if recommendation in catalogue.toolkit_ids else None,
        records=records,
        explained=tracker.get_slot(EXPLAINED_QUESTION),
        offer=offer if isinstance(offer, dict) else None,
    )


def slot_events(state: State, catalogue: Catalogue, tracker: Tracker) -> List[EventType]:
    """SlotSet events that write ``state`` back (the public state contract).

    Only slots whose value changes are sent: Rasa validates every event of an
    action server response against its JSON schema, and that validation, not
    the dialogue logic, is what a turn's time goes on.
    """
    values: Dict[str, Any] = {q: state.answers.get(q) for q in catalogue.question_ids}
    values.update(
        {
            CURRENT_QUESTION: state.current_question,
            RECOMMENDATION: state.recommendation,
            ANSWER_LOG: [record.as_dict() for record in state.records.values()],
            EXPLAINED_QUESTION: state.explained,
            OFFER: state.offer,
        }
    )
    return [SlotSet(name, value) for name, value in values.items() if tracker.get_slot(name) != value]


def trusted_entities(tracker: Tracker, entity: str) -> List[Dict[str, Any]]:
    return [
        e
        for e in tracker.latest_message.get("entities", [])
        if e.get("entity") == entity and e.get("extractor") == TRUSTED_EXTRACTOR
    ]


def reading_from_tracker(tracker: Tracker, catalogue: Catalogue) -> Reading:
    prefs = []
    for e in trusted_entities(tracker, "preference"):
        if e.get("value") not in catalogue.question_ids or e.get("role") not in ("yes", "no", "unsure"):
            continue
        value = None if e["role"] == "unsure" else e["role"] == "yes"
        prefs.append(
            Preference(
                e["value"],
                value,
                int(e.get("start", 0)),
                int(e.get("end", 0)),
                str(e.get("said", "")),
                bool(e.get("explicit", True)),
                bool(e.get("in_question", False)),
                bool(e.get("weak", False)),
            )
        )
    stance = next((e for e in trusted_entities(tracker, "stance") if e.get("value") in ("yes", "no", "unsure")), None)
    signals = {"revision"} if trusted_entities(tracker, "revision") else set()
    if stance is not None and stance.get("answer_word") is True:
        signals.add("answer_word")
    return Reading(
        signals=frozenset(signals),
        preferences=tuple(prefs),
        stance=stance["value"] if stance else None,
        stance_said=str(stance.get("said", "")) if stance else "",
    )


def intent_of(tracker: Tracker) -> str:
    return (tracker.latest_message.get("intent") or {}).get("name") or ""


def payload_entity(tracker: Tracker, entity: str) -> Optional[str]:
    """An entity set by a button payload; used only as a hint, never as an answer.

    Rasa marks entities it reads from ``/intent{...}`` text with the extractor
    ``RegexMessageHandler`` (tests build them without one); which payloads get
    that far at all is decided by the input guard's allowlist in config.yml.
    """
    for e in tracker.latest_message.get("entities", []):
        if e.get("entity") == entity and e.get("extractor") in PAYLOAD_EXTRACTORS and isinstance(e.get("value"), str):
            return e["value"]
    return None


def turn_from_tracker(tracker: Tracker, catalogue: Catalogue, intent: Optional[str] = None) -> Turn:
    confidence = (tracker.latest_message.get("intent") or {}).get("confidence")
    return Turn(
        intent=intent or intent_of(tracker),
        text=tracker.latest_message.get("text") or "",
        reading=reading_from_tracker(tracker, catalogue),
        button_question=payload_entity(tracker, "question"),
        confidence=float(confidence) if isinstance(confidence, (int, float)) else 1.0,
    )


def send(dispatcher: CollectingDispatcher, reply: Reply) -> None:
    for message in reply.messages:
        dispatcher.utter_message(**message.as_kwargs())
