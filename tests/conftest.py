"""Shared fixtures.

Plain tests build the spaCy pipeline in memory from the catalogue (no build
step needed). Tests marked ``servers`` share one running assistant - the real
action server and the real Rasa server on free loopback ports - started once
per session, because loading a Rasa model takes seconds.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from advisor.catalogue import get_catalogue
from advisor.preferences import PreferenceReader
from advisor.spacy_pipeline import build

PROJECT = Path(__file__).resolve().parent.parent
ARTEFACTS = PROJECT / "build" / "test-artefacts"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture(scope="session")
def catalogue():
    return get_catalogue()


@pytest.fixture(scope="session")
def nlp(catalogue):
    return build(catalogue)


@pytest.fixture(scope="session")
def reader(catalogue, nlp):
    return PreferenceReader(catalogue, nlp)


@pytest.fixture
def catalogue_copy(tmp_path):
    """A writable copy of the catalogue directory, for breaking it on purpose."""
    target = tmp_path / "catalogue"
    shutil.copytree(PROJECT / "catalogue", target)
    return target


SLACK_SECRET = "test-signing-secret"
SLACK_TOKEN = "xoxb-test-token"
EXTRA_ORIGIN = "http://allowed.example:8080"


@pytest.fixture(scope="session")
def fake_slack():
    """A fake Slack Web API on loopback, recording chat.postMessage and chat.update."""
    from tests.fake_slack import FakeSlackAPI

    api = FakeSlackAPI().start()
    yield api
    api.stop()


@pytest.fixture(scope="session")
def stack(fake_slack):
    """The real action server and Rasa server, once per test session.

    Rasa runs with every channel of credentials.yml: REST, the web chat (page
    and socket.io) and Slack, whose Web API calls go to ``fake_slack``.
    """
    from ops.stack import Stack, free_port

    # TOOLKIT_ADVISOR_MODEL: run the server tests against another trained model.
    model = Path(os.environ.get("TOOLKIT_ADVISOR_MODEL") or PROJECT / "models" / "toolkit-advisor.tar.gz")
    if not model.exists():
        pytest.fail("no trained model: run `make train` (make test does) before the server tests")
    log_dir = ARTEFACTS / "server-logs"
    shutil.rmtree(log_dir, ignore_errors=True)
    env = {
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SLACK_SIGNING_SECRET": SLACK_SECRET,
        "SLACK_API_URL": fake_slack.url,
        "WEBCHAT_ALLOWED_ORIGINS": EXTRA_ORIGIN,
        # A fresh conversation database per session, kept with the logs (not var/conversations.db).
        "TRACKER_DB": str(log_dir / "conversations.db"),
    }
    running = Stack(rasa_port=free_port(), actions_port=free_port(), model=model, token="test-token", log_dir=log_dir, env=env)
    running.start()
    yield running
    running.stop()
