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


@pytest.fixture(scope="session")
def stack():
    """The real action server and Rasa server, once per test session."""
    from ops.stack import Stack, free_port

    model = PROJECT / "models" / "toolkit-advisor.tar.gz"
    if not model.exists():
        pytest.fail("no trained model: run `make train` (make test does) before the server tests")
    log_dir = ARTEFACTS / "server-logs"
    shutil.rmtree(log_dir, ignore_errors=True)
    running = Stack(rasa_port=free_port(), actions_port=free_port(), token="test-token", log_dir=log_dir)
    running.start()
    yield running
    running.stop()
