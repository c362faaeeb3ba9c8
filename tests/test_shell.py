"""`rasa shell` in a pseudo-terminal: what `make shell` gives a person, keys and all.

rasa shell draws buttons as a questionary menu, which needs a real terminal;
a pty gives it one. The test answers the first question by picking a button
with the arrow keys and Enter, and expects the next question.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import time

import pytest

from ops.stack import RASA_CLI, free_port
from tests.conftest import PROJECT

pytestmark = pytest.mark.servers

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r")
DOWN, ENTER = "\x1b[B", "\r"


class Terminal:
    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        # A wide terminal, so questions are not wrapped mid-phrase.
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
        os.set_blocking(self.master, False)
        self.process = subprocess.Popen(
            args, cwd=PROJECT, env=env, stdin=slave, stdout=slave, stderr=slave, start_new_session=True, close_fds=True
        )
        os.close(slave)
        self.screen = ""

    def read_until(self, pattern: str, timeout: float) -> str:
        """Everything printed (escape codes removed) once `pattern` appears after the last call."""
        start = len(self.screen)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.screen[start:]):
                return self.screen[start:]
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    self.screen += ANSI.sub("", os.read(self.master, 65536).decode(errors="replace"))
                except OSError:  # the child closed the terminal
                    break
            if self.process.poll() is not None and not ready:
                break
        raise AssertionError(f"{pattern!r} not seen within {timeout} s; screen:\n{self.screen[-3000:]}")

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        os.close(self.master)


def test_rasa_shell_answers_with_a_button_and_asks_the_next_question(stack):
    env = {**stack._env(), "TERM": "xterm"}
    port = str(free_port())
    # As `make shell` starts it: Rasa's CLI through ops/rasa_server.py, on loopback.
    args = [*RASA_CLI, "shell", "--model", str(stack.model), "--endpoints", "endpoints.yml", "--port", port]
    args += ["--interface", stack.host]
    terminal = Terminal(args, env)
    try:
        terminal.read_until(r"Bot loaded", timeout=120)
        terminal.read_until(r"Your input ->", timeout=30)
        terminal.send("hi" + ENTER)
        screen = terminal.read_until(r"Not sure", timeout=60)
        assert "First question" in screen
        # The menu starts on "Yes": one step down is "No".
        terminal.send(DOWN)
        time.sleep(0.3)
        terminal.send(ENTER)
        screen = terminal.read_until(r"store\s+large volumes of data", timeout=60)
        assert "not for you" in screen
        terminal.send("/stop" + ENTER)
    finally:
        terminal.close()
