"""The chat page in a real browser (Debian's Chromium, driven by playwright-core) against the real servers.

Each test runs one scenario of ``tests/browser/webchat.mjs`` and then checks
what the page did against the tracker API. Screenshots and the downloaded
decision record land in build/test-artefacts/.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ARTEFACTS, EXTRA_ORIGIN, PROJECT
from tests.http_client import Client

pytestmark = pytest.mark.servers

DRIVER = PROJECT / "tests" / "browser" / "webchat.mjs"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser_ready():
    missing = []
    if not CHROMIUM.exists():
        missing.append("Debian's chromium (make install installs it)")
    if not shutil.which("node"):
        missing.append("node")
    if not (PROJECT / "node_modules" / "playwright-core").exists():
        missing.append("node_modules (make install runs npm ci)")
    if missing:
        pytest.fail("browser tests need " + ", ".join(missing))


@pytest.fixture(scope="module")
def api(stack):
    return Client(stack.url, stack.token)


def run_scenario(stack, name: str) -> dict:
    result = subprocess.run(
        ["node", str(DRIVER), name, stack.url, str(ARTEFACTS)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    outcome = json.loads(lines[-1]) if lines else {"ok": False, "error": result.stdout + result.stderr}
    assert result.returncode == 0 and outcome.get("ok"), outcome.get("error") or result.stderr
    return outcome


def user_texts(tracker: dict) -> list[str]:
    return [e.get("text") for e in tracker["events"] if e["event"] == "user"]


def test_conversation_by_clicking_buttons(stack, api, browser_ready):
    outcome = run_scenario(stack, "buttons")
    tracker = api.tracker(outcome["sessionId"])
    slots = tracker["slots"]
    assert slots["ml_production"] is False and slots["data_infrastructure"] is False and slots["full_stack"] is True
    assert slots["recommendation"] == "fullstack_engineer"
    assert tracker["latest_input_channel"] == "webchat"
    assert (ARTEFACTS / "webchat-buttons.png").stat().st_size > 10_000
    assert user_texts(api.tracker(outcome["newSessionId"])) == []


def test_conversation_by_typing_is_safe_and_downloads_the_record(stack, api, browser_ready):
    outcome = run_scenario(stack, "typing")
    tracker = api.tracker(outcome["sessionId"])
    assert tracker["slots"]["recommendation"] == "data_engineer"
    texts = user_texts(tracker)
    assert "<img src=x onerror=alert(1)>" in texts  # reached the bot verbatim, shown as text
    assert (ARTEFACTS / "webchat-decision-record.md").read_text().startswith("# Toolkit Advisor - decision record")


def test_reload_continues_the_same_conversation(stack, api, browser_ready):
    """Fails without python-socketio==5.9.0: after the reload the bot's replies never reach the page."""
    outcome = run_scenario(stack, "reload")
    tracker = api.tracker(outcome["sessionId"])
    slots = tracker["slots"]
    assert (slots["ml_production"], slots["data_infrastructure"], slots["full_stack"]) == (False, False, True)
    assert slots["recommendation"] == "fullstack_engineer"
    assert len(user_texts(tracker)) == 4  # start, no, (reload) no, yes - one conversation


def test_keyboard_only(stack, api, browser_ready):
    outcome = run_scenario(stack, "keyboard")
    assert api.slots(outcome["sessionId"])["recommendation"] == "ml_engineer"


def test_usable_at_360_px(stack, browser_ready):
    run_scenario(stack, "narrow")
    assert (ARTEFACTS / "webchat-360px.png").exists()


def test_shows_the_outage_and_reconnects(stack, api, browser_ready):
    outcome = run_scenario(stack, "reconnect")
    assert "Reconnecting" in outcome["offlineText"] or "Retrying" in outcome["offlineText"]
    assert api.slots(outcome["sessionId"])["current_question"] == "data_infrastructure"


# -- the page and socket.io over plain HTTP ------------------------------------------------------


def get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def test_page_and_assets_are_served_locally(stack):
    status, headers, page = get(f"{stack.url}/chat/")
    assert status == 200 and b'<main class="chat"' in page
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    sources = re.findall(rb'(?:src|href)="([^"]*)"', page)
    assert sources and all(s.startswith((b"/chat/", b"data:")) for s in sources), sources
    for asset in ("widget.js", "widget.css", "socket.io.min.js"):
        status, _, body = get(f"{stack.url}/chat/{asset}")
        assert status == 200 and len(body) > 1000, asset
    assert get(f"{stack.url}/chat/..%2Fcredentials.yml")[0] == 404
    assert get(f"{stack.url}/chat/index.js")[0] == 404


def test_socket_io_accepts_only_allowed_origins(stack):
    handshake = f"{stack.url}/socket.io/?EIO=4&transport=polling"
    status, headers, body = get(handshake, {"Origin": stack.url})
    assert status == 200 and body.startswith(b"0{") and headers["Access-Control-Allow-Origin"] == stack.url
    status, headers, _ = get(handshake, {"Origin": EXTRA_ORIGIN})
    assert status == 200 and headers["Access-Control-Allow-Origin"] == EXTRA_ORIGIN
    status, headers, _ = get(handshake, {"Origin": "http://evil.example"})
    assert status == 400 and "Access-Control-Allow-Origin" not in headers


def test_rest_api_sends_no_wildcard_cors(stack):
    status, headers, _ = get(f"{stack.url}/version", {"Origin": "http://evil.example"})
    assert status == 200
    assert headers.get("Access-Control-Allow-Origin") in (None, "")
