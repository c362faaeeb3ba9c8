"""Failing parts, with the real servers: the action server crashes, hangs, or never starts.

These tests stop and freeze an action server, so they run their own assistant
(``ops.stack.Stack`` on free ports, its own conversation database and an
``endpoints.yml`` whose action timeout is 2 s) rather than the session's
shared one, which other tests keep using.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time

import pytest
import yaml

from ops.rasa_server import APOLOGY
from ops.stack import PROJECT, Process, Stack, free_port
from tests.conftest import ARTEFACTS
from tests.http_client import QUESTION_IDS, Client, new_sender, text_of

pytestmark = pytest.mark.servers

TIMEOUT = 2  # seconds, the action timeout of this module's assistant


@pytest.fixture(scope="module")
def own(tmp_path_factory, stack):
    """An assistant of its own; ``stack`` is requested first so the shared one is up and unaffected."""
    tmp = tmp_path_factory.mktemp("failures")
    log_dir = ARTEFACTS / "failure-logs"
    shutil.rmtree(log_dir, ignore_errors=True)
    running = Stack(
        rasa_port=free_port(),
        actions_port=free_port(),
        model=stack.model,
        token="failure-test-token",
        log_dir=log_dir,
        env={"TRACKER_DB": str(tmp / "conversations.db")},
    )
    endpoints = yaml.safe_load((PROJECT / "endpoints.yml").read_text())
    endpoints["action_endpoint"] = {"url": running.actions_url, "timeout": TIMEOUT}
    (tmp / "endpoints.yml").write_text(yaml.safe_dump(endpoints))
    running.rasa_args = ["--endpoints", str(tmp / "endpoints.yml")]
    running.start()
    yield running
    running.stop()


def actions_process(stack: Stack) -> Process:
    return next(p for p in stack.processes if p.name == "actions" and p.alive())


def rasa_log(stack: Stack) -> str:
    rasa = next(p for p in stack.processes if p.name == "rasa")
    return rasa.log.read_text(errors="replace") if rasa.log else ""


def answers(bot: Client, sender: str) -> dict:
    slots = bot.slots(sender)
    return {q: slots[q] for q in QUESTION_IDS if slots[q] is not None}


def test_action_server_down_mid_conversation_then_back(own):
    bot = Client(own.url, own.token)
    sender = new_sender("down")
    bot.say(sender, "hi")
    bot.say(sender, "no")  # ml_production: no
    assert answers(bot, sender) == {"ml_production": False}
    log_before = len(rasa_log(own))

    crashed = actions_process(own)
    crashed.kill()  # as a crash would
    crashed.stop()  # closes its log
    own.processes.remove(crashed)
    try:
        started = time.monotonic()
        reply = bot.say(sender, "yes")  # would answer data_infrastructure
        assert text_of(reply) == APOLOGY
        assert time.monotonic() - started < TIMEOUT + 3
        reply = bot.say(sender, "what does a devops engineer do?")
        assert text_of(reply) == APOLOGY
        slots = bot.slots(sender)
        assert answers(bot, sender) == {"ml_production": False}
        assert slots["current_question"] == "data_infrastructure" and slots["recommendation"] is None
    finally:
        own.start_actions()

    # Back: the same conversation carries on from its answers.
    reply = bot.say(sender, "yes, ETL and warehouses sound great")
    slots = bot.slots(sender)
    assert slots["recommendation"] == "data_engineer", text_of(reply)
    assert answers(bot, sender) == {"ml_production": False, "data_infrastructure": True}
    assert "Data Engineer" in text_of(reply)

    log = rasa_log(own)[log_before:]
    failures = [line for line in log.splitlines() if "ERROR" in line and "Action server at" in line]
    assert len(failures) == 1, failures  # two failed turns, one log line
    assert "cannot connect" in failures[0]
    assert "answers again after 2 failed calls" in log
    assert "Encountered an exception while running action" not in log  # Rasa's stack trace, not ours


def test_hung_action_server_is_bounded_by_the_timeout(own):
    bot = Client(own.url, own.token)
    sender = new_sender("hung")
    bot.say(sender, "hi")
    process = actions_process(own)
    os.kill(process.popen.pid, signal.SIGSTOP)  # accepts connections, never answers
    try:
        started = time.monotonic()
        reply = bot.say(sender, "no")
        waited = time.monotonic() - started
        assert text_of(reply) == APOLOGY
        assert TIMEOUT - 0.5 <= waited < TIMEOUT + 3, waited
        assert answers(bot, sender) == {}
    finally:
        os.kill(process.popen.pid, signal.SIGCONT)
    bot.say(sender, "no")
    bot.say(sender, "no")
    assert answers(bot, sender) == {"ml_production": False, "data_infrastructure": False}
    assert "no answer within 2 s" in rasa_log(own)


def test_make_run_reports_a_broken_catalogue(catalogue_copy):
    """`make run` with a broken catalogue stops at once with the problem named, instead of hanging."""
    toolkits = catalogue_copy / "toolkits.yml"
    data = yaml.safe_load(toolkits.read_text())
    data["toolkits"][2].pop("primary_focus")
    toolkits.write_text(yaml.safe_dump(data, sort_keys=False))
    env = {
        **os.environ,
        "TOOLKIT_ADVISOR_CATALOGUE": str(catalogue_copy),
        "RASA_PORT": str(free_port()),
        "ACTION_PORT": str(free_port()),
    }
    env.pop("RASA_AUTH_TOKEN", None)
    # -o: take the model and the npm packages as they are (this test is about starting, not building).
    command = [
        "make",
        "--no-print-directory",
        "-o",
        "models/toolkit-advisor.tar.gz",
        "-o",
        "node_modules/.package-lock.json",
        "run",
    ]
    started = time.monotonic()
    result = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert elapsed < 60, elapsed
    assert "error: actions exited with code 2 while starting" in output, output
    assert "the catalogue is broken" in output and "primary_focus" in output, output
    assert not re.search(r"ready\. Chat with it", output)
