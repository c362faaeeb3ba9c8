"""Out-of-scope text records nothing: CLINC150's held-out test queries, measured."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from tests.conftest import ARTEFACTS
from tests.http_client import Client, new_sender

pytestmark = pytest.mark.servers

CLINC = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "clinc150"
SAMPLE_SIZE = 400
MIN_RATE = 0.98


def clinc_sample() -> list[str]:
    """A fixed sample of `test` and `oos_test` queries outside the `meta` domain (never trained on)."""
    data = json.loads((CLINC / "data_full.json").read_text())
    meta = set(json.loads((CLINC / "domains.json").read_text())["meta"])
    rows = sorted({text for text, intent in data["test"] if intent not in meta} | {text for text, _ in data["oos_test"]})
    return random.Random(2019).sample(rows, SAMPLE_SIZE)


def test_clinc_out_of_scope_records_nothing(stack):
    assert CLINC.exists(), f"{CLINC} is missing: the repository must sit beside ../shared"
    bot = Client(stack.url, stack.token)
    failures = []
    sample = clinc_sample()
    for text in sample:
        sender = new_sender("oos")
        bot.say(sender, "hi")
        reply = bot.say(sender, text)
        slots = bot.slots(sender)
        answers = {k: v for k, v in bot.answers(sender).items()}
        if answers or slots.get("recommendation") or not reply:
            failures.append({"text": text, "answers": answers, "recommendation": slots.get("recommendation")})
    rate = 1 - len(failures) / len(sample)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    (ARTEFACTS / "out_of_scope.json").write_text(
        json.dumps({"sample": len(sample), "rate": rate, "failures": failures}, indent=2)
    )
    print(f"out of scope recording nothing: {rate:.1%} of {len(sample)} (failures: {len(failures)})")
    assert rate >= MIN_RATE, failures
