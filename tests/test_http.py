"""Conversations over HTTP with the real Rasa server and the real action server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ARTEFACTS
from tests.http_client import Client, new_sender, text_of

pytestmark = pytest.mark.servers

SHARED_EVAL = Path(__file__).resolve().parent.parent.parent / "shared" / "eval"
PHRASINGS = yaml.safe_load((Path(__file__).parent / "data" / "phrasings.yml").read_text())


@pytest.fixture(scope="module")
def bot(stack):
    return Client(stack.url, stack.token)


def test_greeting_then_questions_to_a_recommendation(bot):
    sender = new_sender()
    reply = bot.say(sender, "hello")
    assert "Toolkit Advisor" in text_of(reply)
    assert bot.slots(sender)["current_question"] == "ml_production"
    bot.say(sender, "no")
    assert bot.slots(sender)["current_question"] == "data_infrastructure"
    reply = bot.say(sender, "not really")
    slots = bot.slots(sender)
    assert slots["ml_production"] is False and slots["data_infrastructure"] is False
    assert slots["current_question"] == "full_stack"
    bot.say(sender, "React and CSS are my favourite things")
    assert bot.slots(sender)["user_interfaces"] is True
    bot.say(sender, "nope")
    bot.say(sender, "no")
    slots = bot.slots(sender)
    assert slots["recommendation"] == "frontend_engineer"
    assert slots["current_question"] is None


def test_opener_recommends_without_questions(bot):
    sender = new_sender()
    reply = bot.say(sender, "I love data pipelines but deploying models bores me")
    slots = bot.slots(sender)
    assert slots["recommendation"] == "data_engineer"
    text = text_of(reply)
    assert "Data Engineer" in text and "deploying models bores me" in text
    assert "[Apache Spark](https://spark.apache.org/docs/latest/)" in text


def test_button_payload_answers_the_question(bot):
    sender = new_sender()
    reply = bot.say(sender, "hi")
    payload = reply[-1]["buttons"][0]["payload"]
    bot.say(sender, payload)
    assert bot.slots(sender)["recommendation"] == "ml_engineer"


def test_catalogue_questions_keep_the_pending_question(bot):
    sender = new_sender()
    bot.say(sender, "hi")
    reply = bot.say(sender, "what does a devops engineer do?")
    text = text_of(reply)
    assert "DevOps" in text and "Docker" in text and "Kubernetes" in text
    assert bot.slots(sender)["current_question"] == "ml_production"
    reply = bot.say(sender, "compare frontend and backend")
    text = text_of(reply)
    assert "Frontend Engineer" in text and "Backend Engineer" in text and "React" in text
    assert bot.answers(sender) == {}


def run_simulator(stack, bank: Path, out: Path) -> subprocess.CompletedProcess:
    simulate = SHARED_EVAL / "simulate.py"
    assert simulate.exists(), f"{simulate} is missing: the repository must sit beside ../shared"
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, str(simulate), str(bank), "--url", stack.url, "--token", stack.token, "--json", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    print(result.stdout)
    return result


def test_simulator_public_bank(stack, tmp_path):
    result = run_simulator(stack, SHARED_EVAL / "bank.yml", ARTEFACTS / "simulate.json")
    assert result.returncode == 0, result.stdout + result.stderr


# Banks in simulate.py's shape written by authors who saw only the guide and the
# public bank (plain answers, casual chat, indirect descriptions, reflective
# stories, terse chat, tastes that shifted, job-ad talk, the public bank's own
# register in other words, a mix of all, questions about the toolkits), then
# used to find and mend what the assistant misread: a regression guard now, not
# an independent measure. Minimum share of cases passed, per bank (job-ad talk still has three
# misread cases, e.g. a whole stack listed as "React in front, Django behind").
BANKS = {
    "plain.yml": 0.95,
    "casual.yml": 0.95,
    "indirect.yml": 0.95,
    "reflective.yml": 0.95,
    "terse.yml": 0.95,
    "shifts.yml": 0.95,
    "jobtalk.yml": 0.9,
    "like_public.yml": 0.95,
    "mixed.yml": 0.95,
    "catalogue.yml": 0.95,
}


@pytest.mark.parametrize("bank", sorted(BANKS))
def test_simulator_other_banks(stack, bank):
    out = ARTEFACTS / f"simulate-{bank.removesuffix('.yml')}.json"
    result = run_simulator(stack, Path(__file__).parent / "data" / "banks" / bank, out)
    assert result.returncode in (0, 1), result.stdout + result.stderr  # 2: the server did not answer
    sections = json.loads(out.read_text())["summary"]["sections"]
    passed = sum(s["passed"] for s in sections.values())
    total = passed + sum(s["failed"] for s in sections.values())
    assert total > 0 and passed / total >= BANKS[bank], result.stdout


def test_phrasings_through_the_whole_pipeline(bot):
    """Statements by another author, each opening a new conversation: NLU, gating and actions together."""
    items = PHRASINGS["statements"]
    right = 0
    misses = []
    for item in items:
        sender = new_sender("phr")
        bot.say(sender, item["text"])
        answers = bot.answers(sender)
        if all(answers.get(q) == v for q, v in item["expect"].items()):
            right += 1
        else:
            misses.append({"text": item["text"], "expect": item["expect"], "got": answers})
    (ARTEFACTS / "phrasings_misses.json").write_text(json.dumps(misses, indent=2))
    print(f"statements understood end to end: {right}/{len(items)}")
    assert right / len(items) >= 0.85


def test_questions_and_small_talk_record_nothing(bot):
    items = PHRASINGS["none"]
    clean = 0
    for text in items:
        sender = new_sender("none")
        bot.say(sender, "hi")
        reply = bot.say(sender, text)
        slots = bot.slots(sender)
        clean += not bot.answers(sender) and not slots["recommendation"] and bool(reply)
    print(f"non-answers recording nothing: {clean}/{len(items)}")
    assert clean / len(items) >= 0.95


def test_private_api_needs_the_token(bot, stack):
    sender = new_sender()
    bot.say(sender, "hi")
    status, _ = Client(stack.url).request("GET", f"/conversations/{sender}/tracker", token=False)
    assert status == 401
