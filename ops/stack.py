"""Start and stop the assistant's processes: the action server and Rasa.

Used by ``make run`` / ``make shell`` and by the test-suite's session fixture,
so that what the tests exercise is exactly what people run. Processes are
started on loopback, waited for until they really answer, and stopped (then
killed, if need be) on exit; a process that dies during start-up (a broken
catalogue, a missing model) is reported with the tail of its log instead of
leaving the caller waiting.

    python -m ops.stack run     # action server + Rasa (chat page, REST, Slack, HTTP API); Ctrl-C stops both
    python -m ops.stack shell   # action server in the background + `rasa shell`
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Optional

PROJECT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
DEFAULT_MODEL = PROJECT / "models" / "toolkit-advisor.tar.gz"
# Rasa's command line, started through ops/rasa_server.py (see its docstring: action timeout, apology).
RASA_CLI = [str(VENV_BIN / "python"), "-m", "ops.rasa_server"]


class StartError(RuntimeError):
    """A process exited or never answered while starting."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def _tail(path: Optional[Path], lines: int = 25) -> str:
    if path is None or not path.exists():
        return ""
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(text[-lines:])


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Optional[Path] = None
    log_handle: Optional[IO] = None

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        if self.log_handle is not None:
            self.log_handle.close()
            self.log_handle = None

    def kill(self) -> None:
        """Stop at once, as a crash would (SIGKILL)."""
        if self.alive():
            self.popen.kill()
            self.popen.wait(5)


@dataclass
class Stack:
    """The action server and the Rasa server of one running assistant."""

    rasa_port: int = 5005
    actions_port: int = 5055
    model: Path = DEFAULT_MODEL
    token: str = ""
    host: str = "127.0.0.1"
    log_dir: Optional[Path] = None
    env: dict[str, str] = field(default_factory=dict)
    rasa_args: list[str] = field(default_factory=list)
    # How Rasa is started: the project's launcher; `make bench` also starts stock `rasa run` to compare.
    rasa_cli: list[str] = field(default_factory=lambda: list(RASA_CLI))
    processes: list[Process] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://{self.host}:{self.actions_port}/webhook"

    def _env(self) -> dict[str, str]:
        env = {**os.environ, **self.env}
        env["ACTION_SERVER_URL"] = self.env.get("ACTION_SERVER_URL", self.actions_url)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        env.setdefault("PYTHONWARNINGS", "ignore")
        # rasa_sdk listens on every interface unless SANIC_HOST says otherwise: loopback only.
        env.setdefault("SANIC_HOST", self.host)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT), env.get("PYTHONPATH", "")]))
        return env

    def spawn(self, name: str, args: list[str]) -> Process:
        log = handle = None
        stdout: Optional[IO] = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log = self.log_dir / f"{name}.log"
            handle = open(log, "ab")  # noqa: SIM115 - closed by Process.stop()
            stdout = handle
        popen = subprocess.Popen(args, cwd=PROJECT, env=self._env(), stdout=stdout, stderr=subprocess.STDOUT if stdout else None)
        process = Process(name, popen, log, handle)
        self.processes.append(process)
        return process

    def _wait(self, process: Process, ready, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not process.alive():
                raise StartError(
                    f"{process.name} exited with code {process.popen.returncode} while starting.\n{_tail(process.log)}"
                )
            try:
                if ready():
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise StartError(f"{process.name} did not answer within {timeout:.0f} s.\n{_tail(process.log)}")

    def start_actions(self, timeout: float = 60.0) -> Process:
        process = self.spawn("actions", [str(VENV_BIN / "python"), "-m", "actions", "--port", str(self.actions_port)])
        self._wait(process, lambda: http_get(f"http://{self.host}:{self.actions_port}/health")[0] == 200, timeout)
        return process

    def rasa_command(self) -> list[str]:
        # `python -m ops.rasa_server` is Rasa's own CLI plus a bounded, polite action-server client.
        args = [
            *self.rasa_cli,
            "run",
            "--enable-api",
            "--interface",
            self.host,
            "--port",
            str(self.rasa_port),
            "--model",
            str(self.model),
            "--endpoints",
            "endpoints.yml",
            "--credentials",
            "credentials.yml",
        ]
        if self.token:
            args += ["--auth-token", self.token]
        return args + self.rasa_args

    def start_rasa(self, timeout: float = 180.0) -> Process:
        if not Path(self.model).exists():
            raise StartError(f"no trained model at {self.model}: run `make train` first")
        process = self.spawn("rasa", self.rasa_command())
        self._wait(process, self.model_ready, timeout)
        return process

    def model_ready(self) -> bool:
        status, body = http_get(f"{self.url}/status?token={self.token}")
        return status == 200 and bool(json.loads(body or b"{}").get("model_id"))

    def start(self) -> Stack:
        try:
            self.start_actions()
            self.start_rasa()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def auth_token() -> tuple[str, bool]:
    """RASA_AUTH_TOKEN, or a fresh random token for this run (second value: generated)."""
    token = os.environ.get("RASA_AUTH_TOKEN", "")
    if token:
        return token, False
    return secrets.token_urlsafe(24), True


def _print_ready(stack: Stack, token: str, generated: bool) -> None:
    print(f"\nToolkit Advisor is ready. Chat with it at {stack.url}/chat/", flush=True)
    print(f'  REST channel: POST {stack.url}/webhooks/rest/webhook  {{"sender": "me", "message": "hi"}}')
    if os.environ.get("SLACK_BOT_TOKEN") and os.environ.get("SLACK_SIGNING_SECRET"):
        print("  Slack: on - Events API and interactivity request URL: <your public URL>/webhooks/slack/webhook")
    else:
        print("  Slack: off (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET to enable it; see README)")
    print(f"  HTTP API (token required): {stack.url}/conversations/<sender>/tracker?token={token}")
    if generated:
        print("  The token was generated for this run; set RASA_AUTH_TOKEN to choose your own.")
    print("Press Ctrl-C to stop.", flush=True)


def _interrupt(*_: object) -> None:
    """SIGTERM stops the stack the same way Ctrl-C does."""
    raise KeyboardInterrupt


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Run Toolkit Advisor locally.")
    parser.add_argument("mode", choices=["run", "shell"])
    parser.add_argument("--rasa-port", type=int, default=int(os.environ.get("RASA_PORT", "5005")))
    parser.add_argument("--actions-port", type=int, default=int(os.environ.get("ACTION_PORT", "5055")))
    parser.add_argument("--model", default=str(DEFAULT_MODEL))
    args = parser.parse_args(argv)
    token, generated = auth_token()
    stack = Stack(rasa_port=args.rasa_port, actions_port=args.actions_port, model=Path(args.model), token=token)
    if args.mode == "shell":
        stack.log_dir = Path(tempfile.mkdtemp(prefix="toolkit-advisor-"))
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        stack.start_actions()
        print(f"Action server is up on port {args.actions_port}.", flush=True)
        if args.mode == "shell":
            shell = [*RASA_CLI, "shell", "--model", args.model, "--endpoints", "endpoints.yml", "--interface", stack.host]
            return subprocess.call(shell, cwd=PROJECT, env=stack._env())
        stack.start_rasa()
        _print_ready(stack, token, generated)
        while all(p.alive() for p in stack.processes):
            time.sleep(0.5)
        dead = next(p for p in stack.processes if not p.alive())
        print(f"{dead.name} stopped unexpectedly (exit code {dead.popen.returncode}).", file=sys.stderr)
        return 1
    except StartError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
