"""The default set-up: `make run` keeps conversations in an SQLite file and continues them after a restart.

The servers are started exactly as `make run` starts them (``python -m
ops.stack run``), with nothing set but the file's location (``TRACKER_DB``, so
the test does not touch ``var/conversations.db``), and stopped with Ctrl-C
(SIGINT to the process group, as a terminal sends it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from ops.stack import PROJECT, free_port, http_get
from tests.cluster.conftest import ARTEFACTS
from tests.cluster.driver import user_texts
from tests.http_client import Client, new_sender

pytestmark = pytest.mark.cluster

SCALE_OUT_VARIABLES = ("TRACKER_STORE_URL", "TRACKER_STORE_PASSWORD", "LOCK_STORE_URL", "LOCK_STORE_PASSWORD", "SANIC_WORKERS")


class MakeRun:
    """`python -m ops.stack run` in its own process group, as `make run` runs it."""

    def __init__(self, db, log, model) -> None:
        self.model = model
        self.rasa_port, self.actions_port = free_port(), free_port()
        self.env = {k: v for k, v in os.environ.items() if k not in SCALE_OUT_VARIABLES}
        self.env.update({"TRACKER_DB": str(db), "RASA_AUTH_TOKEN": "sqlite-test-token"})
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 180) -> Client:
        args = [sys.executable, "-m", "ops.stack", "run", "--rasa-port", str(self.rasa_port)]
        args += ["--actions-port", str(self.actions_port), "--model", str(self.model)]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                args, cwd=PROJECT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        url = f"http://127.0.0.1:{self.rasa_port}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"make run exited; see {self.log}"
            try:
                status, _ = http_get(f"{url}/status?token=sqlite-test-token")
                if status == 200:
                    return Client(url, "sqlite-test-token")
            except OSError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"make run did not come up; see {self.log}")

    def stop(self) -> None:
        """Ctrl-C: SIGINT to the whole process group, then wait for every process to end."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGINT)
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
            raise
        except ProcessLookupError:
            pass
        finally:
            self.process = None


def test_make_run_restart_continues_conversations(tmp_path, model):
    db = tmp_path / "var" / "conversations.db"
    log = ARTEFACTS / "sqlite-restart.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.unlink(missing_ok=True)
    run = MakeRun(db, log, model)
    waiting, finished = new_sender("sqlite-waiting"), new_sender("sqlite-done")
    try:
        bot = run.start()
        bot.say(waiting, "hi")
        bot.say(waiting, "no")
        bot.say(finished, "I love data pipelines but deploying models bores me")
        before = {sender: bot.tracker(sender) for sender in (waiting, finished)}
        assert before[waiting]["slots"]["current_question"] == "data_infrastructure"
        assert before[finished]["slots"]["recommendation"] == "data_engineer"
        run.stop()
        assert db.exists() and db.stat().st_size > 0
        with pytest.raises(OSError):
            http_get(f"http://127.0.0.1:{run.rasa_port}/", timeout=1)

        bot = run.start()
        for sender, old in before.items():
            now = bot.tracker(sender)
            assert now["events"] == old["events"], f"{sender}: events changed across the restart"
            assert now["slots"] == old["slots"]
        # The pending question is still the one asked before the restart ...
        reply = bot.say(waiting, "no")
        slots = bot.slots(waiting)
        assert slots["ml_production"] is False and slots["data_infrastructure"] is False
        assert slots["current_question"] == "full_stack"
        assert "Are you interested in developing complete software applications" in " ".join(m.get("text") or "" for m in reply)
        bot.say(waiting, "yes")
        assert bot.slots(waiting)["recommendation"] == "fullstack_engineer"
        assert user_texts(bot.tracker(waiting)["events"]) == ["hi", "no", "no", "yes"]
        # ... and the recommendation made before it still explains itself.
        reply = bot.say(finished, "why?")
        assert "deploying models bores me" in " ".join(m.get("text") or "" for m in reply)
        assert bot.slots(finished)["recommendation"] == "data_engineer"
    finally:
        run.stop()
