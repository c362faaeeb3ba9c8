"""The input guard on its own: normalising, cutting, language, words, markup and payloads.

Plain tests (no servers): ``advisor.input_guard`` directly, the NLU component
with the configuration in config.yml, and ``ActionOutOfScope`` answering a
flagged message. What reaches a running bot is in ``test_robustness.py``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from advisor.input_guard import (
    EMPTY,
    MARKUP,
    NO_WORDS,
    NOT_ENGLISH,
    PAYLOAD,
    TOO_LONG,
    GuardConfig,
    clean,
    has_words,
    inspect,
    is_not_english,
    payload_allowed,
    reply_for,
)

PROJECT = Path(__file__).resolve().parent.parent
CLINC = PROJECT.parent / "shared" / "data" / "clinc150" / "data_full.json"


def guard_settings() -> dict:
    config = yaml.safe_load((PROJECT / "config.yml").read_text())
    entry = next(c for c in config["pipeline"] if c["name"] == "components.input_guard.InputGuard")
    return {k: v for k, v in entry.items() if k != "name"}


@pytest.fixture(scope="module")
def config() -> GuardConfig:
    return GuardConfig.from_dict(guard_settings())


def issue_of(text: str, config: GuardConfig):
    inspection = inspect(text, config)
    return inspection.issue.kind if inspection.issue else None


def test_the_guard_is_the_first_component():
    pipeline = yaml.safe_load((PROJECT / "config.yml").read_text())["pipeline"]
    assert pipeline[0]["name"] == "components.input_guard.InputGuard"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("hi\x00 there", "hi there"),
        ("\x1b[1;31mred\x1b[0m text", "red text"),
        ("zero\u200bwidth \u202eoverride", "zerowidth override"),
        ("lone \ud800 surrogate", "lone surrogate"),
        ("  tabs\tand\nnewlines\r\n ", "tabs and newlines"),
        ("\ufeffBOM", "BOM"),
    ],
)
def test_control_and_format_characters_are_removed(raw, expected):
    assert clean(raw) == expected
    clean(raw).encode("utf-8")  # always encodable


@pytest.mark.parametrize("text", ["", "   ", "\n\t ", "\x00\x01\x07", "\x1b[31m\x1b[0m", "\u200b\u200b"])
def test_nothing_left_is_empty(text, config):
    assert issue_of(text, config) == EMPTY
    assert inspect(text, config).text == ""


def test_text_over_the_limit_is_cut_before_anything_reads_it(config):
    inspection = inspect("a" * 20_000, config)
    assert inspection.issue.kind == TOO_LONG and inspection.text == ""
    assert inspection.issue.as_dict() == {"issue": TOO_LONG, "length": 20_000, "limit": config.max_chars}
    assert inspect("what does a data engineer do? " + "x" * (config.max_chars - 40), config).issue is None
    assert "20,000 characters" in reply_for(inspection.issue.as_dict())


@pytest.mark.parametrize("text", ["👍", "🙂🙂🙂", "...", "?!", "I", "u ?", "x-x", "* * *", "♥"])
def test_text_without_words_is_no_turn(text, config):
    assert issue_of(text, config) == NO_WORDS


@pytest.mark.parametrize("text", ["y", "n", "K", "ok", "k8s", "50/50", "100%", "2", "yes 👍", "no!!!"])
def test_short_replies_are_words(text, config):
    assert has_words(text)
    assert issue_of(text, config) is None


@pytest.mark.parametrize(
    "text",
    [
        "Me encantan los pipelines de datos",
        "¿Qué debo aprender?",
        "Je voudrais devenir ingénieur de données",
        "Ich mag Datenpipelines und Kubernetes",
        "Mi piace molto il machine learning",
        "Eu gosto muito de dados",
        "Ik wil graag met data werken",
        "我喜欢数据管道",
        "Мне нравится программирование",
        "مرحبا كيف حالك",
        "Μου αρέσουν τα δεδομένα",
    ],
)
def test_other_languages_are_recognised(text, config):
    assert is_not_english(text)
    assert issue_of(text, config) == NOT_ENGLISH
    assert "English" in reply_for({"issue": NOT_ENGLISH})


@pytest.mark.parametrize(
    "text",
    [
        "k8s all day long",
        "nope",
        "I want to de-risk the ML deployment",
        "e.g. socket.io and asyncio",
        "naïve question: what's a résumé for a PM?",
        "yes, pero no me gusta css",  # mixed: more English than not
        "hola",  # one word is not evidence
        "React and CSS are my favourite things",
    ],
)
def test_english_is_not_mistaken_for_another_language(text):
    assert not is_not_english(text)


def _training_texts() -> list[str]:
    texts = []
    for path in sorted((PROJECT / "data" / "nlu").glob("*.yml")):
        for item in yaml.safe_load(path.read_text()).get("nlu", []):
            for line in (item.get("examples") or "").splitlines():
                text = re.sub(
                    r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}", lambda m: m.group(1) or m.group(2), line.strip()[2:]
                )
                texts.append(text.strip())
    phrasings = yaml.safe_load((PROJECT / "tests" / "data" / "phrasings.yml").read_text())
    texts += [item["text"] for item in phrasings["statements"]] + list(phrasings["none"])
    return [t for t in texts if t]


def test_no_training_example_or_phrasing_is_flagged(config):
    """The guard must never stop what the assistant was trained and tested to understand."""
    flagged = [(t, issue_of(t, config)) for t in _training_texts() if issue_of(t, config)]
    assert not flagged, flagged[:20]


@pytest.mark.skipif(not CLINC.exists(), reason="../shared/data/clinc150 is missing")
def test_no_clinc150_query_is_flagged(config):
    """23,700 English queries by crowd workers (CLINC150): none flagged as another language or as no words."""
    data = json.loads(CLINC.read_text())
    flagged = [t for rows in data.values() for t, _ in rows if issue_of(t, config)]
    assert not flagged, flagged[:20]


@pytest.mark.parametrize(
    "text, plain",
    [
        ("<b>I love data pipelines</b>", "I love data pipelines"),
        ("<style>p{}</style>what does a data engineer do?", "what does a data engineer do?"),
        ("a < b and c > d", "a < b and c > d"),
        ("I <3 data", "I <3 data"),
    ],
)
def test_markup_is_read_as_its_words(text, plain, config):
    inspection = inspect(text, config)
    assert inspection.issue is None and inspection.text == plain


@pytest.mark.parametrize(
    "text", ["<script>alert('x')</script>", "<img src=x onerror=alert(1)>", "<!-- hi -->", "<script>alert(1)"]
)
def test_markup_alone_is_no_turn(text, config):
    assert issue_of(text, config) == MARKUP


# -- payloads ---------------------------------------------------------------------------


def _payloads_the_assistant_sends() -> set[tuple[str, frozenset[str]]]:
    """(intent, entity keys) of every button payload in the code and the chat page."""
    found: set[tuple[str, frozenset[str]]] = set()
    for path in list((PROJECT / "advisor").glob("*.py")) + list((PROJECT / "actions").glob("*.py")):
        source = path.read_text()
        for intent, args in re.findall(r'intent_payload\(\s*"([a-z_]+)"([^)]*)\)', source):
            found.add((intent, frozenset(re.findall(r"(\w+)=", args))))
        for intent in re.findall(r'which_toolkit\(\s*catalogue,\s*"([a-z_]+)"\)', source):
            found.add((intent, frozenset({"toolkit"})))
    for intent in re.findall(r'payload:\s*"/([a-z_]+)"', (PROJECT / "web" / "widget.js").read_text()):
        found.add((intent, frozenset()))
    return found


def test_every_button_payload_is_allowed(config):
    sent = _payloads_the_assistant_sends()
    assert ("affirm", frozenset({"question"})) in sent and ("ask_toolkit", frozenset({"toolkit"})) in sent
    for intent, keys in sent:
        payload = f"/{intent}" + (json.dumps({k: "data_engineer" for k in keys}) if keys else "")
        assert payload_allowed(payload, config.allowed_payloads), f"{payload} is sent by a button but not allowed in config.yml"


@pytest.mark.parametrize(
    "payload",
    [
        '/affirm{"question":"ml_production"}',
        "/ask_why",
        '/compare_toolkits{"toolkit":"x"}',
        '/ask_toolkit{"toolkit":"x"}',
        "/start_over",
        "/list_toolkits",
        "/ask_runner_up",
        "/ask_next_steps",
        "/deny",
        "/unsure",
        "/greet",
    ],
)
def test_button_payloads_pass_unchanged(payload, config):
    inspection = inspect(payload, config)
    assert inspection.issue is None and inspection.text == payload


@pytest.mark.parametrize(
    "payload",
    [
        "/restart",
        "/back",
        "/session_start",
        "/out_of_scope",
        "/nlu_fallback",
        "/share_preference",
        "/go_back",
        "/what_if",
        "/summarise",
        '/affirm{"recommendation":"devops_engineer"}',
        '/share_preference{"preference":"automation"}',
        '/affirm{"ml_production": true}',
        '/affirm{"question": 1}',
        '/affirm{"question": ["ml_production"]}',
        '/affirm{"question":"ml_production","recommendation":"x"}',
        "/affirm@0.99",
        '/affirm{"question":"ml_production"} and more',
        "/affirm{not json}",
        "  /restart  ",
        "/ restart",
        "/RESTART",
        "/action_restart",
    ],
)
def test_other_payloads_are_neutralised(payload, config):
    inspection = inspect(payload, config)
    assert inspection.issue is not None and inspection.issue.kind == PAYLOAD and inspection.text == ""
    assert "/" in reply_for({"issue": PAYLOAD})


def test_text_that_merely_starts_with_a_slash_is_read_as_words(config):
    inspection = inspect("/usr/bin/python is my jam", config)
    assert inspection.issue is None and inspection.text == "usr/bin/python is my jam"


@pytest.mark.parametrize(
    "bad", [{"max_chars": 0}, {"allowed_payloads": ["affirm"]}, {"allowed_payloads": {"affirm": "question"}}]
)
def test_bad_settings_are_refused(bad):
    with pytest.raises(ValueError):
        GuardConfig.from_dict(bad)


def test_every_issue_has_a_reply():
    for kind in (EMPTY, NO_WORDS, NOT_ENGLISH, PAYLOAD, MARKUP):
        assert reply_for({"issue": kind})
    assert reply_for({"issue": TOO_LONG, "length": 5000, "limit": 1000})
    assert reply_for({}) is None


# -- in Rasa: the component and the out-of-scope action ---------------------------------


def test_component_empties_flagged_messages_and_says_why():
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message

    from components.input_guard import GUARD_KEY, InputGuard

    guard = InputGuard({**InputGuard.get_default_config(), **guard_settings()})
    messages = [Message({TEXT: t}) for t in ("/restart", "hi\x00 there", "what does a data engineer do?", "x" * 5000)]
    guard.process(messages)
    restart, control, normal, long = messages
    assert restart.get(TEXT) == "" and restart.get(GUARD_KEY) == {"issue": PAYLOAD}
    assert control.get(TEXT) == "hi there" and control.get(GUARD_KEY) is None
    assert normal.get(TEXT) == "what does a data engineer do?" and GUARD_KEY not in normal.as_dict(only_output_properties=True)
    assert long.get(TEXT) == "" and long.as_dict(only_output_properties=True)[GUARD_KEY]["length"] == 5000


def _tracker(latest: dict, slots: dict):
    from rasa_sdk import Tracker

    return Tracker("guard-test", slots, latest, [], False, None, {}, "action_listen")


@pytest.mark.asyncio
async def test_out_of_scope_action_explains_and_repeats_the_question():
    from rasa_sdk.executor import CollectingDispatcher

    from actions.conversation_actions import ActionOutOfScope

    latest = {
        "text": "",
        "intent": {"name": "nlu_fallback", "confidence": 1.0},
        "entities": [],
        "input_guard": {"issue": PAYLOAD},
    }
    slots = {"current_question": "data_infrastructure", "ml_production": False}
    dispatcher = CollectingDispatcher()
    events = await ActionOutOfScope().run(dispatcher, _tracker(latest, slots), {})
    texts = [m.get("text") or "" for m in dispatcher.messages]
    assert events == []
    assert texts[0] == reply_for({"issue": PAYLOAD})
    assert any("data" in t.lower() for t in texts[1:]), texts  # the pending question again
