"""``make bench``: the project against the assistant ``rasa init`` creates.

One run trains two configurations on the same data - the project's
``config.yml`` and ``rasa init``'s pipeline and policies
(``bench/reference_config.yml``) - and serves three assistants on the same
machine and the same action server, interleaving the measurements that a noisy
machine could skew:

* **project**: the project's model, started as ``make run`` starts it (the
  launcher ``ops/rasa_server.py``, the SQLite tracker store of ``endpoints.yml``);
* **rasa_init**: the reference model started the way ``rasa init`` leaves a
  project - Rasa's own ``rasa run`` on Rasa as ``pip install rasa==3.6.21``
  installs it (``build/stock-venv`` from ``bench/stock-requirements.lock``;
  the project's own pins, ``jsonschema`` 3.2.0 first, are levers the issue
  credits to the project), ``endpoints.yml`` naming only the action server
  (in-memory tracker and lock stores), the REST channel. This is the
  assistant the speed issue measured, and the one its targets are ratios to;
* **rasa_init_on_project_runtime**: the same reference model started exactly
  as the project is (project's pins, launcher, store, action client). The ratio
  to it separates what the configuration buys from what the project's runtime
  buys, since the runtime's gains count for both here.

For each: training time from a clean state (fresh Rasa cache; for the project
also the spaCy pipeline build that ``make train`` does; one training of the
reference serves both reference columns); cold start, process start until the
first REST reply with the action server already up (median of interleaved
starts); turn latency p50 / p95 over REST with 1 user and with 16 concurrent
users, each holding real conversations to a recommendation (action-server
round trips included), and throughput in turns/s at 16 users; peak resident
memory of each Rasa server and of the action server; intent F1 by seeded
cross-validation on the project's NLU data (one per configuration).

Writes ``bench/results.json`` and ``bench/results.md`` (also copied into the
README between its bench markers) and prints the table.

    python -m ops.bench                 # everything (the reference's cross-validation takes long)
    python -m ops.bench --folds 0       # skip cross-validation
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import psutil

from ops.stack import PROJECT, VENV_BIN, Stack, StartError, free_port

BENCH_DIR = PROJECT / "bench"
CONFIGS = {"project": PROJECT / "config.yml", "reference": BENCH_DIR / "reference_config.yml"}
# Rasa's own command line, as a project made by `rasa init` starts it, on Rasa as
# `pip install rasa==3.6.21` installs it (bench/stock-requirements.lock; `make bench` builds
# this virtualenv): the project's pins - jsonschema 3.2.0 first - are its own levers.
STOCK_VENV = PROJECT / "build" / "stock-venv"
STOCK_RASA_CLI = [str(STOCK_VENV / "bin" / "rasa")]


@dataclass(frozen=True)
class Variant:
    """One assistant the bench serves: a trained configuration, started one way."""

    config: str  # key of CONFIGS
    stock: bool  # Rasa's own `rasa run` with rasa init's endpoints, instead of the project's launcher
    label: str


VARIANTS = {
    "project": Variant("project", stock=False, label="Project"),
    "rasa_init": Variant("reference", stock=True, label="`rasa init`, stock Rasa"),
    "rasa_init_on_project_runtime": Variant("reference", stock=False, label="`rasa init` config, project's runtime"),
}
# The assistant the targets are ratios to (see the module docstring).
TARGET_REFERENCE = "rasa_init"
README = PROJECT / "README.md"
MARK_START, MARK_END = "<!-- bench:start -->", "<!-- bench:end -->"

# Conversations the simulated users hold: every turn goes through NLU, the
# rules and the action server; each ends on a recommendation.
CONVERSATIONS = [
    ["hi", "no", "yes"],
    ["hello", "no", "no", "yes"],
    ["hey there", "no", "no", "no", "yes"],
    ["hi", "yes"],
    ["good morning", "no", "no", "no", "no", "no", "no", "no"],
]


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- memory -------------------------------------------------------------------------


class PeakMemory:
    """Samples the resident memory of processes (and their children) in the background."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peaks: dict[str, int] = {}
        self._watched: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def watch(self, name: str, pid: int) -> None:
        self._watched[name] = pid

    def reset(self, name: str) -> None:
        self.peaks[name] = 0

    def start(self) -> PeakMemory:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, pid in list(self._watched.items()):
                try:
                    proc = psutil.Process(pid)
                    rss = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
                except psutil.Error:
                    continue
                self.peaks[name] = max(self.peaks.get(name, 0), rss)
            time.sleep(self.interval)


# -- training -------------------------------------------------------------------------


def train(name: str, out_dir: Path) -> tuple[float, Path]:
    """Train ``name``'s configuration from a clean state; (seconds, model path)."""
    env = {**os.environ, "RASA_CACHE_DIRECTORY": tempfile.mkdtemp(prefix=f"bench-cache-{name}-"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    started = time.perf_counter()
    if name == "project":  # make train also builds the spaCy pipeline and the generated domain
        subprocess.run(
            [str(VENV_BIN / "python"), "-m", "advisor.spacy_pipeline", "build/spacy_pipeline"],
            cwd=PROJECT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run(
            [str(VENV_BIN / "python"), "-m", "advisor.domain_slots"], cwd=PROJECT, env=env, check=True, stdout=subprocess.DEVNULL
        )
    command = [
        str(VENV_BIN / "rasa"),
        "train",
        "--config",
        str(CONFIGS[name]),
        "--domain",
        "domain",
        "--data",
        "data",
        "--out",
        str(out_dir),
        "--fixed-model-name",
        name,
    ]
    subprocess.run(command, cwd=PROJECT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    shutil.rmtree(env["RASA_CACHE_DIRECTORY"], ignore_errors=True)
    return seconds, out_dir / f"{name}.tar.gz"


# -- serving ---------------------------------------------------------------------------


def say(url: str, sender: str, text: str, timeout: float = 60.0) -> list[dict[str, Any]]:
    import urllib.request

    body = json.dumps({"sender": sender, "message": text}).encode()
    req = urllib.request.Request(f"{url}/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read() or b"[]")


def rasa_init_files(directory: Path, actions_url: str) -> list[str]:
    """``rasa run`` arguments for what ``rasa init`` leaves: endpoints naming only the action server, REST."""
    directory.mkdir(parents=True, exist_ok=True)
    endpoints, credentials = directory / "rasa-init-endpoints.yml", directory / "rasa-init-credentials.yml"
    endpoints.write_text(f"action_endpoint:\n  url: {actions_url}\n", encoding="utf-8")
    credentials.write_text("rest:\n", encoding="utf-8")
    return ["--endpoints", str(endpoints), "--credentials", str(credentials)]


def make_stack(variant: Variant, model: Path, actions_port: int, directory: Path) -> Stack:
    """A Rasa server for ``variant`` (not started), its logs and conversation database in ``directory``."""
    stack = Stack(
        rasa_port=free_port(),
        actions_port=actions_port,
        model=model,
        log_dir=directory,
        # Each server on an empty conversation database of its own (the stock one keeps them in memory).
        env={"TRACKER_DB": str(directory / "conversations.db")},
    )
    if variant.stock:
        stack.rasa_cli = list(STOCK_RASA_CLI)
        stack.rasa_args = rasa_init_files(directory, stack.actions_url)
    return stack


def cold_start(variant: Variant, model: Path, actions_port: int) -> float:
    """Seconds from starting the Rasa server until the first REST reply arrives."""
    scratch = Path(tempfile.mkdtemp(prefix="bench-cold-"))
    stack = make_stack(variant, model, actions_port, scratch)
    started = time.perf_counter()
    process = stack.spawn("rasa", stack.rasa_command())
    try:
        while True:
            if not process.alive():
                raise StartError(f"rasa exited while starting (see {process.log})")
            try:
                if say(stack.url, f"bench-cold-{uuid.uuid4().hex[:6]}", "hi", timeout=5):
                    elapsed = time.perf_counter() - started
                    break
            except OSError:
                time.sleep(0.1)
    finally:
        stack.stop()
    shutil.rmtree(scratch, ignore_errors=True)  # kept, with its log, when the start failed
    return elapsed


@dataclass
class LoadResult:
    users: int
    turns: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))] if ordered else float("nan")

    @property
    def throughput(self) -> float:
        return self.turns / self.seconds if self.seconds else 0.0


async def _user(session: Any, url: str, deadline: float, seed: int, result: LoadResult) -> None:
    rng = random.Random(seed)
    while time.perf_counter() < deadline:
        sender = f"bench-{seed}-{uuid.uuid4().hex[:8]}"
        for text in rng.choice(CONVERSATIONS):
            started = time.perf_counter()
            try:
                async with session.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}) as resp:
                    await resp.read()
                    ok = resp.status == 200
            except Exception:
                ok = False
            result.latencies.append(time.perf_counter() - started)
            result.turns += 1
            result.errors += not ok


async def _load(url: str, users: int, seconds: float) -> LoadResult:
    import aiohttp

    result = LoadResult(users, 0, 0.0)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=users)) as session:
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(_user(session, url, deadline, seed, result) for seed in range(users)))
        result.seconds = time.perf_counter() - started
    return result


def load(url: str, users: int, seconds: float) -> LoadResult:
    asyncio.run(_load(url, users, max(2.0, seconds / 10)))  # warm-up
    return asyncio.run(_load(url, users, seconds))


# -- report --------------------------------------------------------------------------------


def ratio(project: Optional[float], reference: Optional[float]) -> Optional[float]:
    if project is None or reference in (None, 0):
        return None
    return project / reference


ROWS = [
    # key, label, unit, format, target (ratio), better
    ("train_s", "Training time (clean)", "s", "{:.1f}", "≤ 0.3"),
    ("cold_start_s", "Cold start to first reply", "s", "{:.1f}", "≤ 0.25, < 12 s"),
    ("p50_1_ms", "Turn latency p50, 1 user", "ms", "{:.1f}", ""),
    ("p95_1_ms", "Turn latency p95, 1 user", "ms", "{:.1f}", ""),
    ("p50_16_ms", "Turn latency p50, 16 users", "ms", "{:.1f}", ""),
    ("p95_16_ms", "Turn latency p95, 16 users", "ms", "{:.1f}", "≤ 0.25"),
    ("throughput_16", "Throughput, 16 users", "turns/s", "{:.1f}", "≥ 4×, ≥ 100"),
    ("rasa_peak_mb", "Peak memory, Rasa server", "MB", "{:.0f}", "≤ 0.6"),
    ("actions_peak_mb", "Peak memory, action server", "MB", "{:.0f}", ""),
    ("intent_f1", "Intent F1 (cross-validation)", "", "{:.3f}", "≥ 1.0"),
]


def _cell(value: Optional[float], fmt: str, unit: str) -> str:
    return "-" if value is None else fmt.format(value) + (f" {unit}" if unit else "")


def ratios(results: dict[str, Any]) -> dict[str, dict[str, Optional[float]]]:
    """Each figure of the project over the same figure of every other assistant served."""
    return {
        name: {key: ratio(results["project"].get(key), results[name].get(key)) for key, *_ in ROWS}
        for name in VARIANTS
        if name != "project"
    }


def variants_of(config: str) -> list[str]:
    """The assistants served from ``config``'s training (its training time and F1 are theirs)."""
    return [name for name, variant in VARIANTS.items() if variant.config == config]


def markdown(results: dict[str, Any]) -> str:
    others = [name for name in VARIANTS if name != "project"]
    lines = [
        f"Measured {results['date']} on {results['machine']} by `make bench`"
        f" ({results['seconds_per_load']:.0f} s per load run, {results['folds']}-fold cross-validation)."
        f" Targets are ratios to {VARIANTS[TARGET_REFERENCE].label}; one training and one cross-validation"
        " of the `rasa init` configuration serve both of its columns.",
        "",
        "| Measure | Project | " + " | ".join(f"{VARIANTS[name].label} | Ratio" for name in others) + " | Target |",
        "|---|---:|" + "---:|---:|" * len(others) + "---|",
    ]
    for key, label, unit, fmt, target in ROWS:
        cells = [_cell(results["project"].get(key), fmt, unit)]
        for name in others:
            value, r = results[name].get(key), results["ratios"][name].get(key)
            cells += [_cell(value, fmt, unit), "-" if r is None else f"{r:.2f}"]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {target} |")
    return "\n".join(lines)


def update_readme(table: str) -> None:
    text = README.read_text(encoding="utf-8")
    if MARK_START in text and MARK_END in text:
        head, rest = text.split(MARK_START, 1)
        _, tail = rest.split(MARK_END, 1)
        README.write_text(f"{head}{MARK_START}\n{table}\n{MARK_END}{tail}", encoding="utf-8")


# -- main -------------------------------------------------------------------------------------


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="duration of each load run")
    parser.add_argument("--cold-starts", type=int, default=3)
    parser.add_argument("--folds", type=int, default=3, help="cross-validation folds (0: skip)")
    parser.add_argument("--out", default=str(BENCH_DIR / "results.json"))
    parser.add_argument("--reuse", metavar="DIR", help="take project.tar.gz / reference.tar.gz from DIR instead of training")
    args = parser.parse_args(argv)
    if not Path(STOCK_RASA_CLI[0]).exists():
        parser.error(f"{STOCK_RASA_CLI[0]} is missing: `make bench` installs stock Rasa there (bench/stock-requirements.lock)")

    work = Path(tempfile.mkdtemp(prefix="bench-"))
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{psutil.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.0f} GiB",
        "seconds_per_load": args.seconds,
        "folds": args.folds,
        "target_reference": TARGET_REFERENCE,
        **{name: {} for name in VARIANTS},
    }
    memory = PeakMemory().start()
    actions = Stack(actions_port=free_port(), log_dir=work / "logs")
    try:
        models, train_s = {}, {}
        for config in CONFIGS:
            if args.reuse:
                models[config] = Path(args.reuse) / f"{config}.tar.gz"
                continue
            progress(f"training {config} from a clean state ...")
            train_s[config], models[config] = train(config, work / "models")
            progress(f"  {config}: {train_s[config]:.1f} s")
        for config, seconds in train_s.items():
            for name in variants_of(config):
                results[name]["train_s"] = seconds

        actions.start_actions()
        memory.watch("actions", actions.processes[0].popen.pid)
        cold: dict[str, list[float]] = {name: [] for name in VARIANTS}
        for round_ in range(args.cold_starts):
            for name, variant in VARIANTS.items():  # interleaved: A B C A B C ...
                progress(f"cold start {round_ + 1}/{args.cold_starts}: {name}")
                cold[name].append(cold_start(variant, models[variant.config], actions.actions_port))
        for name in VARIANTS:
            results[name]["cold_start_s"] = statistics.median(cold[name])
            progress(f"  {name}: {', '.join(f'{s:.1f}' for s in cold[name])} s")

        servers = {}
        for name, variant in VARIANTS.items():
            server = make_stack(variant, models[variant.config], actions.actions_port, work / f"serve-{name}")
            server.start_rasa()
            servers[name] = server
            memory.watch(f"rasa-{name}", server.processes[0].popen.pid)
        try:
            for users in (1, 16):
                for name in VARIANTS:  # interleaved
                    progress(f"load: {users} user(s) on {name} for {args.seconds:.0f} s")
                    memory.reset("actions")
                    result = load(servers[name].url, users, args.seconds)
                    key = "1" if users == 1 else "16"
                    results[name][f"p50_{key}_ms"] = 1000 * result.percentile(0.5)
                    results[name][f"p95_{key}_ms"] = 1000 * result.percentile(0.95)
                    results[name][f"errors_{key}"] = result.errors
                    if users == 16:
                        results[name]["throughput_16"] = result.throughput
                    peak = memory.peaks.get("actions", 0) / 2**20
                    results[name]["actions_peak_mb"] = max(results[name].get("actions_peak_mb", 0), peak)
                    p50, p95 = 1000 * result.percentile(0.5), 1000 * result.percentile(0.95)
                    progress(f"  p50 {p50:.1f} ms, p95 {p95:.1f} ms, {result.throughput:.1f} turns/s, {result.errors} errors")
            for name in VARIANTS:
                results[name]["rasa_peak_mb"] = memory.peaks.get(f"rasa-{name}", 0) / 2**20
        finally:
            for server in servers.values():
                server.stop()

        if args.folds:
            from ops.nlu_report import cross_validate

            for config in CONFIGS:
                progress(f"cross-validating {config} ({args.folds} folds) ...")
                cv = cross_validate(work / f"cv-{config}", args.folds, str(CONFIGS[config]))
                progress(f"  {config}: intent F1 {cv['weighted_f1']:.3f}")
                for name in variants_of(config):
                    results[name]["intent_f1"] = cv["weighted_f1"]
    finally:
        actions.stop()
        memory.stop()

    results["ratios"] = ratios(results)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    table = markdown(results)
    (out.parent / "results.md").write_text(table + "\n")
    if out.resolve() == (BENCH_DIR / "results.json").resolve():  # a trial run elsewhere leaves the README alone
        update_readme(table)
    print(table)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
