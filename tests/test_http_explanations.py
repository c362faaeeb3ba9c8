"""Why, why not, what if, runner-up, next steps, the record and going back: over HTTP, in text and by button."""

from __future__ import annotations

import pytest

from tests.http_client import Client, new_sender, text_of

pytestmark = pytest.mark.servers


@pytest.fixture(scope="module")
def bot(stack):
    return Client(stack.url, stack.token)


def to_backend(bot: Client) -> str:
    sender = new_sender("explain")
    bot.say(sender, "I'm not into deploying ML models and data pipelines bore me")
    bot.say(sender, "no")  # full stack
    bot.say(sender, "APIs and databases are my favourite")
    assert bot.slots(sender)["recommendation"] == "backend_engineer"
    return sender


def test_why_quotes_the_path(bot):
    sender = to_backend(bot)
    text = text_of(bot.say(sender, "how did you decide?"))
    assert "rules out ML Engineer" in text and "rules out Data Engineer" in text
    assert "APIs and databases are my favourite" in text
    assert "Backend Engineer, the first yes, wins" in text


def test_why_by_button(bot):
    sender = to_backend(bot)
    reply = bot.say(sender, "no")  # a stray "no" after the recommendation shows the follow-ups
    payload = next(b["payload"] for m in reply for b in m.get("buttons") or [] if b["title"] == "Why this one?")
    assert "the first yes, wins" in text_of(bot.say(sender, payload))


def test_why_not(bot):
    sender = to_backend(bot)
    text = text_of(bot.say(sender, "why not data engineering?"))
    assert "You said no to building data pipelines" in text
    text = text_of(bot.say(sender, "why not devops?"))
    assert "your yes there" in text and "What would have led to DevOps Engineer" in text
    text = text_of(bot.say(sender, "why not backend?"))
    assert "is my recommendation" in text


def test_what_if_explores_then_commits(bot):
    sender = to_backend(bot)
    text = text_of(bot.say(sender, "what if I said yes to data pipelines?"))
    assert "I'd recommend Data Engineer instead of Backend Engineer" in text
    assert bot.slots(sender)["recommendation"] == "backend_engineer"  # nothing changed yet
    text = text_of(bot.say(sender, "yes, change it"))
    slots = bot.slots(sender)
    assert slots["data_infrastructure"] is True and slots["recommendation"] == "data_engineer"
    assert "moves from Backend Engineer to Data Engineer" in text


def test_what_if_declined_keeps_answers(bot):
    sender = to_backend(bot)
    reply = bot.say(sender, "what if I liked frontend work?")
    keep = next(b["payload"] for m in reply for b in m.get("buttons") or [] if b["title"].startswith("No"))
    bot.say(sender, keep)
    assert bot.slots(sender)["recommendation"] == "backend_engineer"
    assert bot.slots(sender)["user_interfaces"] is None


def test_runner_up_and_next_steps(bot, catalogue):
    sender = to_backend(bot)
    text = text_of(bot.say(sender, "what else would suit me?"))
    assert "Frontend Engineer" in text or "user interfaces" in text
    text = text_of(bot.say(sender, "what should I do next?"))
    backend = catalogue.toolkit("backend_engineer")
    assert backend.added.first_project in text
    assert backend.added.resources[0].url in text


def test_decision_record_as_text_and_json(bot, catalogue):
    sender = to_backend(bot)
    reply = bot.say(sender, "send me my results")
    record = next(m["custom"] for m in reply if m.get("custom"))
    assert record["type"] == "decision_record" and record["recommendation"] == "backend_engineer"
    assert record["catalogue_version"] == catalogue.version
    assert [a["question"] for a in record["answers"]][:2] == ["ml_production", "data_infrastructure"]
    assert "# Toolkit Advisor - decision record" in text_of(reply)


def test_two_changes_after_the_recommendation(bot):
    sender = to_backend(bot)
    asked = []
    for text in ["actually I'd love building complete apps end to end", "on second thought, data pipelines sound great"]:
        bot.say(sender, text)
        slots = bot.slots(sender)
        if slots["current_question"]:
            asked.append(slots["current_question"])
    slots = bot.slots(sender)
    assert slots["recommendation"] == "data_engineer"
    assert len(asked) == len(set(asked))


def test_go_back(bot):
    sender = new_sender("back")
    bot.say(sender, "hi")
    bot.say(sender, "no")
    assert bot.slots(sender)["current_question"] == "data_infrastructure"
    text = text_of(bot.say(sender, "go back"))
    slots = bot.slots(sender)
    assert slots["ml_production"] is None and slots["current_question"] == "ml_production"
    assert "taken back" in text
