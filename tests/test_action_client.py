"""ops/rasa_server.py: how Rasa calls the action server - bounded in time, an apology instead of silence.

Plain tests: the real ``ResilientRemoteAction`` (Rasa's ``RemoteAction`` plus
the changes) against small fake action servers on loopback - down, failing,
answering garbage, too slow, rejecting - with the real domain. The same class
in the real Rasa server is tested in ``test_failures.py``.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from aiohttp import web

from ops.rasa_server import APOLOGY, DEFAULT_TIMEOUT, OUTAGE, action_timeout, install, resilient_remote_action_class
from ops.stack import free_port

PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def domain():
    from rasa.shared.core.domain import Domain

    return Domain.load(str(PROJECT / "domain"))


@pytest.fixture(autouse=True)
def fresh_outage():
    OUTAGE.answered("reset")
    yield
    OUTAGE.answered("reset")


class FakeActionServer:
    """An action server on loopback whose answer each test chooses."""

    def __init__(self, handler) -> None:
        self.handler = handler
        self.port = free_port()
        self.runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook"

    async def __aenter__(self) -> FakeActionServer:
        app = web.Application()
        app.router.add_post("/webhook", self.handler)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


async def run_action(url: str, domain, timeout: float | None = None, **endpoint_settings):
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    endpoint = EndpointConfig(url=url, **({"timeout": timeout} if timeout is not None else {}), **endpoint_settings)
    action = resilient_remote_action_class()("action_advance", endpoint)
    tracker = DialogueStateTracker.from_events("client-test", [], slots=domain.slots)
    return await action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(domain.responses), tracker, domain)


def texts(events) -> list[str]:
    return [getattr(e, "text", None) for e in events if type(e).__name__ == "BotUttered"]


async def test_a_working_action_server_is_used_as_rasa_would(domain):
    async def ok(_: web.Request) -> web.Response:
        return web.json_response(
            {
                "events": [{"event": "slot", "name": "current_question", "value": "ml_production"}],
                "responses": [{"text": "Hello"}],
            }
        )

    async with FakeActionServer(ok) as server:
        events = await run_action(server.url, domain)
    assert texts(events) == ["Hello"]
    assert any(type(e).__name__ == "SlotSet" and e.key == "current_question" for e in events)


async def test_down_action_server_gets_an_apology_logged_once(domain, caplog):
    url = f"http://127.0.0.1:{free_port()}/webhook"  # nothing listens there
    with caplog.at_level(logging.DEBUG, logger="ops.rasa_server"):
        first = await run_action(url, domain)
        second = await run_action(url, domain)
    assert texts(first) == [APOLOGY] and len(first) == 1  # no SlotSet: answers untouched
    assert texts(second) == [APOLOGY]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "cannot connect" in errors[0].getMessage(), [r.getMessage() for r in errors]
    assert not any(r.exc_info for r in caplog.records)  # one line, no stack trace


async def test_recovery_is_logged(domain, caplog):
    async def ok(_: web.Request) -> web.Response:
        return web.json_response({"events": [], "responses": []})

    await run_action(f"http://127.0.0.1:{free_port()}/webhook", domain)
    with caplog.at_level(logging.WARNING, logger="ops.rasa_server"):
        async with FakeActionServer(ok) as server:
            await run_action(server.url, domain)
    assert any("answers again" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "answer, cause",
    [
        (lambda: web.Response(status=500, text="Traceback ..."), "HTTP 500"),
        (lambda: web.Response(status=200, text="not json", content_type="text/plain"), "invalid answer"),
        (lambda: web.json_response([1, 2]), "invalid answer"),
        (lambda: web.json_response({"events": "nope"}), "invalid answer"),
    ],
)
async def test_a_failing_action_server_gets_an_apology(domain, caplog, answer, cause):
    async def handler(_: web.Request) -> web.Response:
        return answer()

    with caplog.at_level(logging.ERROR, logger="ops.rasa_server"):
        async with FakeActionServer(handler) as server:
            events = await run_action(server.url, domain)
    assert texts(events) == [APOLOGY] and len(events) == 1
    assert cause in caplog.records[-1].getMessage()


async def test_a_slow_action_server_is_bounded_by_the_configured_timeout(domain, caplog):
    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({"events": [], "responses": [{"text": "too late"}]})

    loop = asyncio.get_running_loop()
    with caplog.at_level(logging.ERROR, logger="ops.rasa_server"):
        async with FakeActionServer(slow) as server:
            started = loop.time()
            events = await run_action(server.url, domain, timeout=0.5)
            waited = loop.time() - started
    assert texts(events) == [APOLOGY]
    assert waited < 2.0, waited
    assert "no answer within 0.5 s" in caplog.records[-1].getMessage()


async def test_a_rejection_is_still_rasa_s_rejection(domain):
    from rasa.core.actions.action import ActionExecutionRejection

    async def reject(_: web.Request) -> web.Response:
        return web.json_response({"action_name": "action_advance", "error": "no"}, status=400)

    async with FakeActionServer(reject) as server:
        with pytest.raises(ActionExecutionRejection):
            await run_action(server.url, domain)


def test_timeout_setting():
    from rasa.utils.endpoints import EndpointConfig, read_endpoint_config

    assert action_timeout(EndpointConfig(url="http://x")) == DEFAULT_TIMEOUT
    assert action_timeout(EndpointConfig(url="http://x", timeout=2.5)) == 2.5
    assert action_timeout(EndpointConfig(url="http://x", timeout="soon")) == DEFAULT_TIMEOUT
    assert action_timeout(EndpointConfig(url="http://x", timeout=-1)) == DEFAULT_TIMEOUT
    # endpoints.yml sets it (ACTION_SERVER_URL must be set for Rasa to read the file).
    import os

    os.environ.setdefault("ACTION_SERVER_URL", "http://127.0.0.1:5055/webhook")
    configured = read_endpoint_config(str(PROJECT / "endpoints.yml"), "action_endpoint")
    assert 0 < action_timeout(configured) <= 30


def test_install_makes_rasa_use_it_and_is_idempotent():
    import rasa.core.actions.action as rasa_actions

    original = rasa_actions.RemoteAction
    try:
        cls = install()
        assert rasa_actions.RemoteAction is cls is install()
        assert issubclass(cls, original) or getattr(original, "resilient", False)
    finally:
        rasa_actions.RemoteAction = original


def response_cases() -> list:
    """Action-server answers, valid and not: what the actions send, and what a broken server might."""
    slot = {"event": "slot", "name": "ml_production", "value": True, "timestamp": None}
    bot = {"event": "bot", "text": "hi", "data": {"buttons": []}, "metadata": {}}
    valid = [
        {"events": [], "responses": []},
        {"events": [slot, slot], "responses": [{"text": "Got it.", "buttons": [{"title": "Yes", "payload": "/affirm"}]}]},
        {"events": [bot, {"event": "action", "name": "action_listen"}, {"event": "followup", "name": "action_advance"}]},
        {"events": [{"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet", "confidence": 1.0}}}]},
        {"events": [{"event": "reset_slots"}, {"event": "restart"}, {"event": "active_loop", "name": None}]},
        {"responses": [{"response": "utter_greet"}]},
        {},
    ]
    invalid = [
        {"events": [{"name": "ml_production", "value": True}]},  # no event type
        {"events": [{"event": "slot", "value": True}]},  # a slot without its name
        {"events": [{"event": "slot", "name": 3, "value": True}]},
        {"events": [{"event": "no_such_event"}]},
        {"events": [slot, {"event": "slot", "name": "x", "timestamp": "yesterday"}]},
        {"events": ["slot"]},
        {"events": {"event": "slot"}},
        {"events": [{"event": "action", "name": "x", "confidence": "high"}]},
        {"events": [{"event": 7}]},
        {"events": [slot], "responses": "hello"},
        {"events": [{"event": "user", "parse_data": {"entities": [{"start": 0}]}}]},
        [],
    ]
    return [(case, True) for case in valid] + [(case, False) for case in invalid]


@pytest.mark.parametrize("response, expected", response_cases())
def test_the_fast_response_check_agrees_with_the_whole_schema(response, expected):
    from ops.rasa_server import response_schema

    schema = response_schema()
    assert schema.by_event, "the schema's oneOf was not split by event type"
    assert schema.full.is_valid(response) is expected  # the case is what it claims to be
    assert schema.is_valid(response) is expected
    error = schema.best_error(response)
    assert (error is None) is expected


async def test_calls_reuse_one_connection_and_send_what_rasa_sends(domain):
    seen = []

    async def ok(request: web.Request) -> web.Response:
        seen.append((request.transport.get_extra_info("peername")[1], request.content_type, await request.json()))
        return web.json_response({"events": [], "responses": [{"text": "Hello"}]})

    async with FakeActionServer(ok) as server:
        for _ in range(3):
            assert texts(await run_action(server.url, domain)) == ["Hello"]
    assert len({port for port, _, _ in seen}) == 1  # one TCP connection for the three calls
    assert all(kind == "application/json" and body["next_action"] == "action_advance" for _, kind, body in seen)


async def test_a_connection_the_server_dropped_is_replaced_not_apologised_for(domain):
    calls = []

    async def drops_the_first(request: web.Request) -> web.Response:
        calls.append(request.transport.get_extra_info("peername")[1])
        if len(calls) == 1:
            request.transport.close()  # as a server closing an idle keep-alive connection would
        return web.json_response({"events": [], "responses": [{"text": "Hello"}]})

    async with FakeActionServer(drops_the_first) as server:
        assert texts(await run_action(server.url, domain)) == ["Hello"]
    assert len(calls) == 2 and calls[0] != calls[1]  # sent once more, on a new connection


async def test_the_kept_sessions_are_closed_at_exit(domain):
    from ops.rasa_server import SESSIONS

    async def ok(_: web.Request) -> web.Response:
        return web.json_response({"events": []})

    async with FakeActionServer(ok) as server:
        await run_action(server.url, domain)
        sessions = list(SESSIONS._sessions.values())
        assert sessions and not any(s.closed for s in sessions)
        SESSIONS.close_all()
    assert not SESSIONS._sessions and all(s.closed for s in sessions)


async def test_a_missing_cafile_is_named_in_the_outage_log(domain, caplog, tmp_path):
    with caplog.at_level(logging.ERROR, logger="ops.rasa_server"):
        events = await run_action("https://127.0.0.1:9/webhook", domain, cafile=str(tmp_path / "missing.pem"))
    assert texts(events) == [APOLOGY]
    assert "cannot connect" in caplog.text and "missing.pem" in caplog.text


def test_domain_emptiness_is_answered_once_per_domain(monkeypatch):
    from rasa.shared.core.domain import Domain

    from ops.rasa_server import install_domain_memo

    monkeypatch.setattr(Domain, "is_empty", Domain.is_empty)  # undone after the test
    domain, empty = Domain.load(str(PROJECT / "domain")), Domain.empty()
    install_domain_memo()
    install_domain_memo()  # idempotent: one wrapper
    assert Domain.is_empty.memoized and not domain.is_empty() and empty.is_empty()
    calls = []
    monkeypatch.setattr(Domain, "as_dict", lambda self: calls.append(self) or {})
    assert not domain.is_empty() and empty.is_empty()  # remembered answers
    assert calls == []
