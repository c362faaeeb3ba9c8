"""Fixtures for the cluster tests (`make test-cluster`).

These tests start PostgreSQL, Redis, nginx and several Rasa servers, so they
run only when asked for with ``-m cluster``: any other selection (``make
test-unit``'s ``-m "not servers"``, a bare ``pytest``) leaves them out here,
without touching the shared pytest configuration.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import ARTEFACTS, PROJECT

TOKEN = "cluster-test-token"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cluster: starts PostgreSQL, Redis, nginx and several servers (make test-cluster)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "cluster" in (config.getoption("markexpr") or ""):
        return
    skipped = [item for item in items if item.get_closest_marker("cluster")]
    if skipped:
        config.hook.pytest_deselected(items=skipped)
        items[:] = [item for item in items if not item.get_closest_marker("cluster")]


@pytest.fixture(scope="session")
def model(tmp_path_factory) -> Path:
    """A copy of the trained model, so that a `make train` during the run cannot swap it between restarts."""
    source = Path(os.environ.get("TOOLKIT_ADVISOR_MODEL") or PROJECT / "models" / "toolkit-advisor.tar.gz")
    if not source.exists():
        pytest.fail("no trained model: run `make train` (make test-cluster does) first")
    copy = tmp_path_factory.mktemp("model") / source.name
    shutil.copy2(source, copy)
    return copy


@pytest.fixture(scope="session")
def cluster(model):
    """PostgreSQL, Redis, an action server, two Rasa servers and nginx, all on loopback.

    Data lives in a fresh temporary folder (removed afterwards); logs go to
    build/test-artefacts/cluster-logs. Everything is stopped at the end.
    """
    from ops.cluster import Cluster

    log_dir = ARTEFACTS / "cluster-logs"
    shutil.rmtree(log_dir, ignore_errors=True)
    base = Path(tempfile.mkdtemp(prefix="toolkit-advisor-cluster-test-"))
    running = Cluster(base=base, model=model, token=TOKEN, log_dir=log_dir)
    started = time.monotonic()
    try:
        running.start()
        print(f"\ncluster started in {time.monotonic() - started:.1f} s")
        yield running
    finally:
        running.stop()
        shutil.rmtree(base, ignore_errors=True)
