"""Untrusted callers, plainly: the run commands' token, secrets in the repository, the dependency audit.

The HTTP API's answers to strangers (401) and to the token holder are tested
against the real server in ``test_robustness.py``.
"""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request
from pathlib import Path

import pytest
import yaml

import ops.stack
from ops.audit import KNOWN, Known, LocalOSV, evaluate, load_known, pins, unreachable
from ops.stack import Stack, StartError

PROJECT = Path(__file__).resolve().parent.parent


# -- the run commands never open the HTTP API without a token -------------------------------------


def test_a_token_is_generated_when_none_is_set(monkeypatch):
    monkeypatch.delenv("RASA_AUTH_TOKEN", raising=False)
    first, generated = ops.stack.auth_token()
    second, _ = ops.stack.auth_token()
    assert generated and len(first) >= 24 and first != second


def test_rasa_auth_token_is_used_when_set(monkeypatch):
    monkeypatch.setenv("RASA_AUTH_TOKEN", "my-own-token")
    assert ops.stack.auth_token() == ("my-own-token", False)


def _started_commands(monkeypatch, mode: str) -> dict:
    """What `python -m ops.stack run|shell` would start, without starting anything."""
    seen: dict = {}

    class Recording(Stack):
        def start_actions(self, timeout: float = 60.0):
            seen["rasa"] = self.rasa_command()
            seen["token"] = self.token
            if mode == "run":
                raise StartError("stopped by the test")

    monkeypatch.setattr(ops.stack, "Stack", Recording)
    monkeypatch.setattr(ops.stack.subprocess, "call", lambda args, **kw: seen.setdefault("shell", args) and 0)
    monkeypatch.setattr(ops.stack.signal, "signal", lambda *a: None)
    seen["exit"] = ops.stack.main([mode, "--rasa-port", "1", "--actions-port", "2"])
    return seen


@pytest.mark.parametrize("env_token", [None, "chosen-token"])
def test_make_run_enables_the_api_only_with_a_token(monkeypatch, capsys, env_token):
    if env_token:
        monkeypatch.setenv("RASA_AUTH_TOKEN", env_token)
    else:
        monkeypatch.delenv("RASA_AUTH_TOKEN", raising=False)
    seen = _started_commands(monkeypatch, "run")
    command = seen["rasa"]
    assert "--enable-api" in command
    token = command[command.index("--auth-token") + 1]
    assert token and token == seen["token"] and (env_token is None or token == env_token)
    assert command[command.index("--interface") + 1] == "127.0.0.1"
    assert seen["exit"] == 1 and "stopped by the test" in capsys.readouterr().err


def test_make_shell_has_no_http_api_and_listens_on_loopback(monkeypatch):
    monkeypatch.delenv("RASA_AUTH_TOKEN", raising=False)
    seen = _started_commands(monkeypatch, "shell")
    shell = seen["shell"]
    assert "shell" in shell and "--enable-api" not in shell
    assert shell[shell.index("--interface") + 1] == "127.0.0.1"


def test_the_ready_message_says_how_to_use_the_token(capsys):
    ops.stack._print_ready(Stack(token="t0k"), "t0k", generated=True)
    out = capsys.readouterr().out
    assert "token=t0k" in out and "RASA_AUTH_TOKEN" in out


# -- no secret in the repository -----------------------------------------------------------------

SECRET_PATTERNS = {
    "Slack token": re.compile(r"xox[abprs]-\d+-[0-9A-Za-z-]+"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "AWS key": re.compile(r"AKIA[0-9A-Z]{16}"),
    "GitHub token": re.compile(r"gh[pousr]_[0-9A-Za-z]{36}"),
    # user:password@ in a connection URL, unless the password is a placeholder or a ${VARIABLE}
    "URL with a password": re.compile(
        r"\b(?:postgres(?:ql)?|redis|rediss|mongodb|amqp)://[\w.%-]*:(?!(?:password|pass|secret|changeme|\*+|x+)@)[^@\s/$<>\[\]{}]{3,}@"
    ),
}


def repository_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=PROJECT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [PROJECT / f for f in listed if (PROJECT / f).is_file() and (PROJECT / f).stat().st_size < 2_000_000]


def test_no_secret_is_committed():
    found = []
    for path in repository_files():
        text = path.read_text(errors="ignore")
        found += [f"{path.relative_to(PROJECT)}: {name}" for name, pattern in SECRET_PATTERNS.items() if pattern.search(text)]
    assert not found, found


def _values(node, key=""):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _values(v, str(k))
    elif isinstance(node, list):
        for v in node:
            yield from _values(v, key)
    else:
        yield key, node


@pytest.mark.parametrize("name", ["credentials.yml", "endpoints.yml"])
def test_configuration_reads_secrets_from_the_environment(name):
    """Keys that hold secrets name an environment variable (or ${VAR}); none holds a literal secret."""
    data = yaml.safe_load((PROJECT / name).read_text()) or {}
    for key, value in _values(data):
        if re.search(r"token|secret|password|api_key", key, re.IGNORECASE) and isinstance(value, str):
            assert key.endswith("_env") or re.fullmatch(r"\$\{[A-Z0-9_]+\}", value), f"{name}: {key}: {value!r}"


# -- the dependency audit ------------------------------------------------------------------------


def test_every_known_vulnerability_has_a_reason_and_matches_the_lock():
    known = load_known()
    assert known and len({k.id for k in known}) == len(known)
    locked = pins()
    for entry in known:
        assert entry.accepted, f"{entry.id}: no reason"
        version = locked.get(entry.package.lower().replace("_", "-"))
        # A stale entry (the pin moved past the fix) should be removed from the list.
        assert version and entry.affects(entry.package, version), f"{entry.id}: {entry.package} is no longer affected"


def test_findings_without_a_reason_fail_the_audit():
    listed = Known("GHSA-aaaa", ("CVE-1",), "aiohttp", "9.9", "x", "client only")
    unlisted = {"id": "PYSEC-2099-1", "aliases": ["CVE-2"], "fix_versions": ["9.9"]}
    report = {
        "dependencies": [
            {"name": "aiohttp", "version": "3.9.5", "vulns": [{"id": "PYSEC-2024-1", "aliases": ["CVE-1"]}]},
            {"name": "rasa", "version": "3.6.21", "vulns": [unlisted]},
        ]
    }
    problems = evaluate(report, [listed])
    assert len(problems) == 1 and "PYSEC-2099-1" in problems[0] and "rasa==3.6.21" in problems[0]
    assert evaluate(report, [listed, Known("PYSEC-2099-1", (), "rasa", "9", "x", "")])  # listed without a reason


def test_local_feed_answers_like_osv():
    known = [Known("GHSA-x", ("CVE-x",), "scikit-learn", "1.5.0", "leak", "reason")]
    with LocalOSV(known) as feed:

        def ask(name: str, version: str) -> dict:
            body = json.dumps({"package": {"name": name, "ecosystem": "PyPI"}, "version": version}).encode()
            with urllib.request.urlopen(urllib.request.Request(feed.url, data=body, method="POST"), timeout=5) as resp:
                return json.loads(resp.read())

        hit = ask("scikit_learn", "1.1.3")
        assert [v["id"] for v in hit["vulns"]] == ["GHSA-x"]
        assert hit["vulns"][0]["affected"][0]["ranges"][0]["events"][-1] == {"fixed": "1.5.0"}
        assert ask("scikit-learn", "1.5.0") == {} and ask("numpy", "1.23.5") == {}


def test_an_unreachable_service_is_recognised():
    assert unreachable("ERROR:pip_audit._cli:absl-py: Dependency not found on PyPI and could not be audited: absl-py (1.4.0)")
    assert unreachable("requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.osv.dev') NameResolutionError")
    assert not unreachable("Found 2 known vulnerabilities in 1 package")


def test_audit_is_part_of_make_test():
    makefile = (PROJECT / "Makefile").read_text()
    assert re.search(r"^test:.*\baudit\b", makefile, re.MULTILINE)
    assert "pip-audit==" in (PROJECT / "requirements-audit.in").read_text()
    assert re.search(r"^pip_audit==\d", (PROJECT / "requirements-audit.lock").read_text(), re.MULTILINE | re.IGNORECASE)
    assert KNOWN.exists()
