"""``make bench``'s set-up and report (plain tests; the measurements themselves are never asserted).

What is checked is that the three assistants are started the way the bench
says: the project and the ``rasa init`` configuration on the project's runtime
through the launcher and ``endpoints.yml``, and the stock ``rasa init``
assistant through Rasa's own command line with the endpoints ``rasa init``
leaves (only the action server: conversations and locks in memory).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.__main__ import create_argument_parser
from rasa.core.utils import AvailableEndpoints
from rasa.shared.utils.io import read_config_file

from ops import bench
from ops.stack import RASA_CLI


def parsed(command: list[str]):
    """The arguments Rasa's own parser reads from a server command (the last of a repeated option wins)."""
    cli = command[len(RASA_CLI) :] if command[: len(RASA_CLI)] == RASA_CLI else command[1:]
    return create_argument_parser().parse_args(cli)


def test_the_stock_rasa_init_assistant_runs_rasas_own_cli_with_rasa_init_endpoints(tmp_path: Path):
    stack = bench.make_stack(bench.VARIANTS["rasa_init"], tmp_path / "reference.tar.gz", 5099, tmp_path)
    command = stack.rasa_command()
    assert command[0] == str(bench.STOCK_VENV / "bin" / "rasa")  # Rasa as `pip install rasa==3.6.21` leaves it
    assert "ops.rasa_server" not in command
    args = parsed(command)
    assert args.model == str(tmp_path / "reference.tar.gz")
    endpoints = AvailableEndpoints.read_endpoints(args.endpoints)
    assert endpoints.action.url == stack.actions_url == "http://127.0.0.1:5099/webhook"
    assert endpoints.tracker_store is None and endpoints.lock_store is None  # Rasa's in-memory defaults
    assert read_config_file(args.credentials) == {"rest": None}


@pytest.mark.parametrize("name", ["project", "rasa_init_on_project_runtime"])
def test_the_other_assistants_run_as_make_run_does(tmp_path: Path, name: str):
    stack = bench.make_stack(bench.VARIANTS[name], tmp_path / "m.tar.gz", 5099, tmp_path)
    command = stack.rasa_command()
    assert command[: len(RASA_CLI)] == RASA_CLI
    args = parsed(command)
    assert (args.endpoints, args.credentials) == ("endpoints.yml", "credentials.yml")
    assert stack.env["TRACKER_DB"] == str(tmp_path / "conversations.db")


def test_both_reference_columns_come_from_one_training_of_rasa_inits_configuration():
    assert {v.config for v in bench.VARIANTS.values()} == set(bench.CONFIGS)
    assert bench.VARIANTS["rasa_init"].config == bench.VARIANTS["rasa_init_on_project_runtime"].config == "reference"
    assert bench.TARGET_REFERENCE == "rasa_init"
    assert bench.variants_of("reference") == ["rasa_init", "rasa_init_on_project_runtime"]
    assert bench.variants_of("project") == ["project"]


def test_the_table_shows_each_figure_and_its_ratio_to_both_references():
    figures = {
        "project": {"throughput_16": 200.0, "p95_16_ms": 50.0, "train_s": 40.0},
        "rasa_init": {"throughput_16": 50.0, "p95_16_ms": 250.0, "train_s": 1600.0},
        "rasa_init_on_project_runtime": {"throughput_16": 100.0, "p95_16_ms": 125.0, "train_s": 1600.0},
    }
    results = {"date": "2026-11-26", "machine": "2 CPUs, 24 GiB", "seconds_per_load": 30.0, "folds": 3, **figures}
    results["ratios"] = bench.ratios(results)
    lines = bench.markdown(results).splitlines()
    header = next(line for line in lines if line.startswith("| Measure"))
    assert header.count("| Ratio") == 2 and "stock Rasa" in header
    row = {line.split(" | ")[0]: line for line in lines if line.startswith("| ")}
    assert row["| Throughput, 16 users"] == (
        "| Throughput, 16 users | 200.0 turns/s | 50.0 turns/s | 4.00 | 100.0 turns/s | 2.00 | ≥ 4×, ≥ 100 |"
    )
    assert "| 50.0 ms | 250.0 ms | 0.20 | 125.0 ms | 0.40 |" in row["| Turn latency p95, 16 users"]
    assert "| - | - | - | - | - |" in row["| Intent F1 (cross-validation)"]  # not measured: no figure invented


def test_the_stock_assistant_runs_on_rasa_as_pip_installs_it_not_on_the_projects_pins():
    """The project's dependency pins are levers the speed issue credits to the project."""
    lines = [
        line
        for line in (bench.BENCH_DIR / "stock-requirements.lock").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    pins = dict(line.split("==") for line in lines)
    assert len(pins) == len(lines)  # every package pinned exactly
    assert pins["rasa"] == "3.6.21"
    assert pins["jsonschema"] == "4.17.3"  # what pip resolves; the project pins 3.2.0
    assert "ruff" not in pins and "spacy" not in pins  # nothing of the project's own
