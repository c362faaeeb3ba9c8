"""Custom actions with the real domain, the real catalogue and CollectingDispatcher."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.catalogue_actions import ActionAnswerCatalogueQuestion
from actions.conversation_actions import ActionOutOfScope, ActionResume
from actions.decision_actions import ActionAdvance, ActionGoBack, ActionStartOver
from actions.explain_actions import (
    ActionExplainWhy,
    ActionExplainWhyNot,
    ActionNextSteps,
    ActionRunnerUp,
    ActionSummarise,
    ActionWhatIf,
)
from components.preference_extractor import PreferenceExtractor

PROJECT = Path(__file__).resolve().parent.parent
ACTIONS = [
    ActionAdvance,
    ActionStartOver,
    ActionGoBack,
    ActionAnswerCatalogueQuestion,
    ActionOutOfScope,
    ActionResume,
    ActionExplainWhy,
    ActionExplainWhyNot,
    ActionWhatIf,
    ActionRunnerUp,
    ActionNextSteps,
    ActionSummarise,
]


@pytest.fixture(scope="module")
def domain():
    return Domain.load(str(PROJECT / "domain"))


@pytest.fixture(scope="module")
def domain_dict(domain):
    return domain.as_dict()


@pytest.fixture(scope="module")
def extractor():
    return PreferenceExtractor({}, "PreferenceExtractor")


@pytest.fixture
def message(reader, extractor, catalogue):
    """The latest_message our NLU pipeline would produce for ``text``."""

    def make(text, intent, extra_entities=()):
        entities = list(extra_entities) + extractor._preference_entities(reader.read(text), text)
        return {"text": text, "intent": {"name": intent, "confidence": 0.99}, "entities": entities}

    return make


def tracker(domain, latest, slots=None):
    values = {slot.name: slot.initial_value for slot in domain.slots}
    values.update(slots or {})
    return Tracker("test-user", values, latest, [], False, None, {}, "action_listen")


def slots_of(events):
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def slots_after(domain, events, slots=None):
    """Every slot's value after the action: the tracker's, updated by the events."""
    values = {slot.name: slot.initial_value for slot in domain.slots}
    values.update(slots or {})
    values.update(slots_of(events))
    return values


async def run(action, domain, domain_dict, latest, slots=None):
    dispatcher = CollectingDispatcher()
    events = await action().run(dispatcher, tracker(domain, latest, slots), domain_dict)
    return dispatcher.messages, events


def test_every_domain_action_is_implemented(domain):
    implemented = {cls().name() for cls in ACTIONS}
    custom = {a for a in domain.user_actions if not a.startswith("utter_")}
    assert custom == implemented


def test_state_contract_slots_exist(domain, catalogue):
    names = {slot.name for slot in domain.slots}
    assert {"current_question", "recommendation", *catalogue.question_ids} <= names
    for question_id in catalogue.question_ids:
        slot = next(s for s in domain.slots if s.name == question_id)
        assert slot.type_name == "bool" and slot.initial_value is None


async def test_greeting_asks_the_first_question(domain, domain_dict, message):
    messages, events = await run(ActionAdvance, domain, domain_dict, message("hi there", "greet"))
    assert slots_of(events)["current_question"] == "ml_production"
    assert [b["title"] for b in messages[-1]["buttons"]] == ["Yes", "No", "Not sure"]


async def test_statement_records_and_recommends(domain, domain_dict, message):
    text = "I love data pipelines but deploying models bores me"
    messages, events = await run(ActionAdvance, domain, domain_dict, message(text, "share_preference"))
    slots = slots_after(domain, events)
    assert slots["data_infrastructure"] is True and slots["ml_production"] is False
    assert slots["recommendation"] == "data_engineer"
    assert slots["current_question"] is None
    assert any("Data Engineer" in (m.get("text") or "") for m in messages)
    assert {r["how"] for r in slots["answer_log"]} == {"volunteered"}


async def test_an_answer_word_travels_from_the_extractor_to_the_action(domain, domain_dict, message):
    """The stance entity says it came from a bare answer word, and the action trusts it over a misreading."""
    text = "yes, though deploying models can be a pain"
    latest = message(text, "share_preference")
    stance = next(e for e in latest["entities"] if e["entity"] == "stance")
    assert stance["answer_word"] is True
    _, events = await run(ActionAdvance, domain, domain_dict, latest, {"current_question": "ml_production"})
    assert slots_after(domain, events, {"current_question": "ml_production"})["ml_production"] is True


async def test_only_changed_slots_are_sent(domain, domain_dict, message):
    _, events = await run(ActionAdvance, domain, domain_dict, message("nope", "deny"), {"current_question": "ml_production"})
    assert set(slots_of(events)) == {"ml_production", "current_question", "answer_log"}


async def test_typed_payload_entities_are_not_answers(domain, domain_dict):
    latest = {
        "text": '/share_preference{"preference": "ml_production"}',
        "intent": {"name": "share_preference", "confidence": 1.0},
        "entities": [{"entity": "preference", "value": "ml_production", "role": "yes", "start": 0, "end": 1}],
    }
    _, events = await run(ActionAdvance, domain, domain_dict, latest, {"current_question": "data_infrastructure"})
    slots = slots_after(domain, events, {"current_question": "data_infrastructure"})
    assert slots["ml_production"] is None and slots["recommendation"] is None


async def test_answer_to_pending_question(domain, domain_dict, message):
    _, events = await run(ActionAdvance, domain, domain_dict, message("nah", "deny"), {"current_question": "ml_production"})
    slots = slots_of(events)
    assert slots["ml_production"] is False
    assert slots["current_question"] == "data_infrastructure"


async def test_describe_keeps_the_pending_question(domain, domain_dict, message):
    latest = message(
        "what does a devops engineer do?",
        "ask_toolkit",
        [{"entity": "toolkit", "value": "devops_engineer", "start": 10, "end": 25}],
    )
    messages, events = await run(ActionAnswerCatalogueQuestion, domain, domain_dict, latest, {"current_question": "full_stack"})
    text = "\n".join(m.get("text") or "" for m in messages)
    assert "DevOps Engineer" in text and "Docker" in text and "Kubernetes" in text
    assert messages[-1]["text"].startswith("Back to my question:")
    assert slots_of(events) == {"last_toolkit": "devops_engineer"}


async def test_compare_two_toolkits(domain, domain_dict, message):
    entities = [
        {"entity": "toolkit", "value": "frontend_engineer", "start": 8, "end": 16},
        {"entity": "toolkit", "value": "backend_engineer", "start": 21, "end": 28},
    ]
    messages, _ = await run(
        ActionAnswerCatalogueQuestion, domain, domain_dict, message("compare frontend and backend", "compare_toolkits", entities)
    )
    assert "Frontend Engineer" in messages[0]["text"] and "Backend Engineer" in messages[0]["text"]
    assert messages[0]["custom"]["type"] == "comparison"


async def test_tools_without_a_toolkit_name_the_toolkits_that_use_them(domain, domain_dict, message):
    entities = [
        {"entity": "tool", "value": "mlflow", "start": 0, "end": 6},
        {"entity": "tool", "value": "wandb", "start": 11, "end": 28},
    ]
    latest = message("mlflow and weights & biases, which role uses those?", "ask_toolkit", entities)
    messages, _ = await run(ActionAnswerCatalogueQuestion, domain, domain_dict, latest)
    text = messages[0]["text"]
    assert "MLflow" in text and "Weights & Biases" in text and text.count("ML Engineer") == 2


async def test_describe_without_a_toolkit_asks_which(domain, domain_dict, message):
    messages, _ = await run(ActionAnswerCatalogueQuestion, domain, domain_dict, message("what skills do I need?", "ask_toolkit"))
    assert messages[0]["text"] == "Which toolkit do you mean?"
    assert len(messages[0]["buttons"]) == 8


async def test_list_in_seed_order(domain, domain_dict, message, catalogue):
    messages, _ = await run(ActionAnswerCatalogueQuestion, domain, domain_dict, message("list all options", "list_toolkits"))
    text = messages[0]["text"]
    positions = [text.index(t.name) for t in catalogue.alternatives()]
    assert positions == sorted(positions)
    start = catalogue.starting_point()
    assert f"Starting point: {start.name}" in text
    assert f"Key skills: {', '.join(start.key_skills)}." in text  # what the person moves from


async def test_out_of_scope_records_nothing(domain, domain_dict, message):
    messages, events = await run(
        ActionOutOfScope,
        domain,
        domain_dict,
        message("what time is it in Tokyo?", "out_of_scope"),
        {"current_question": "ml_production"},
    )
    assert events == []
    assert "career" in messages[0]["text"]
    assert messages[-1]["text"].startswith("Back to my question:")


async def test_start_over_clears_answers(domain, domain_dict, message):
    slots = {"ml_production": False, "data_infrastructure": True, "recommendation": "data_engineer"}
    _, events = await run(ActionStartOver, domain, domain_dict, message("start over", "start_over"), slots)
    values = slots_after(domain, events, slots)
    assert values["ml_production"] is None and values["data_infrastructure"] is None
    assert values["recommendation"] is None and values["current_question"] == "ml_production"
