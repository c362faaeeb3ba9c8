"""Start Rasa with an action-server client that answers in time and never leaves a person in silence.

``python -m ops.rasa_server run ...`` (or ``shell ...``) is Rasa's own command
line - same arguments, same behaviour - after three explicit steps:
``ops.tensorflow_free.prepare`` leaves TensorFlow unloaded when the model to
serve runs none (this project's: seconds and hundreds of MB saved at start),
:func:`install` makes Rasa call custom actions through
:class:`ResilientRemoteAction`, :func:`install_graph_runner` has the
server run its model graph in a precomputed order (``ops/graph_runner.py``),
``ops.rule_memo.install`` has it predict with a rule policy that remembers
each conversation's states instead of replaying them every time,
``ops.count_vectors.install`` counts a message's words and n-grams without
scikit-learn's per-call overhead, and :func:`install_domain_memo` answers
"is the domain empty?" once instead of once a message.
``ops.stack`` (``make run``, ``make shell``, the tests) starts Rasa this way;
anything that starts ``rasa`` directly gets Rasa's stock behaviour.

What Rasa 3.6 does on its own, and why that is not good enough here:

- **Silence.** When the action server is down, answers an error, or sends
  something that is not an action result, ``RemoteAction.run`` raises; the
  processor logs a stack trace ("Bot will continue, but the actions events
  are lost") and the person gets no reply at all for that turn.
- **A five-minute wait.** ``RemoteAction.run`` passes the fixed
  ``DEFAULT_REQUEST_TIMEOUT`` (300 s, ``rasa/core/constants.py``) to
  ``EndpointConfig.request``; nothing in ``endpoints.yml`` changes it. A hung
  action server holds a conversation (and its lock) for five minutes.

Rasa's issue tracker has asked for both for years (RasaHQ/rasa#5588, "Default
message if action server throws an exception"; RasaHQ/rasa#7630, "Action
server failure handling", with a timeout), without a setting in 3.6.

The least invasive fix found: a subclass of ``RemoteAction`` whose ``run``
makes the same call with the same payload, the same response validation and
the same conversion of responses and events, but

- bounds the call by ``timeout`` (seconds) from the ``action_endpoint`` entry
  of ``endpoints.yml`` (Rasa keeps unknown keys of an endpoint in
  ``EndpointConfig.kwargs`` and ignores them, so the setting is harmless to
  stock Rasa), default :data:`DEFAULT_TIMEOUT`;
- on any failure except Rasa's own "action rejected" (HTTP 400, still raised
  as Rasa does) returns a single bot message, :data:`APOLOGY`, and no other
  event: the turn is answered, nothing the action would have set is set, so
  the conversation's answers are exactly as before, and the next turn after
  the action server is back carries on from them (the actions are pure
  functions of the tracker, so a late or lost result leaves nothing behind);
- logs one line with the cause (connection refused, timeout, HTTP status,
  invalid response) when an outage starts - not a stack trace per turn - and
  one line when the action server answers again;
- keeps its connections to the action server open between calls
  (:class:`KeptAliveSessions`) and checks the answer against Rasa's schema
  event by event (:class:`ResponseSchema`): the same request and the same
  verdicts, in less of each turn's time (bench/NOTES.md).

It is put in place by replacing the ``RemoteAction`` name in
``rasa.core.actions.action``, which is where Rasa looks it up each time it
creates a custom action (``action_for_name_or_text``), explicitly here at start
rather than as a side effect of importing some module.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import logging
import sys
import time
from typing import TYPE_CHECKING, Any, List, Optional

import aiohttp

if TYPE_CHECKING:  # imported lazily below: Rasa takes seconds to import
    from rasa.shared.core.events import Event

logger = logging.getLogger("ops.rasa_server")

APOLOGY = "I can't reach my career catalogue right now — please try again in a moment."
DEFAULT_TIMEOUT = 10.0  # seconds; `timeout:` under `action_endpoint` in endpoints.yml overrides it


def action_timeout(endpoint: Any) -> float:
    """The ``timeout`` of the action endpoint in seconds, or the default when unset or invalid."""
    value = (getattr(endpoint, "kwargs", None) or {}).get("timeout")
    if value is None:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = 0.0
    if seconds <= 0:
        logger.warning("action_endpoint timeout %r is not a positive number of seconds; using %g s.", value, DEFAULT_TIMEOUT)
        return DEFAULT_TIMEOUT
    return seconds


class _Outage:
    """Whether the action server is failing, so each outage is logged once (and its end)."""

    def __init__(self) -> None:
        self.cause: Optional[str] = None
        self.failures = 0
        self.since = 0.0

    def failed(self, action: str, url: str, cause: str) -> None:
        self.failures += 1
        if self.cause != cause:
            logger.error(
                "Action server at %s failed for %s: %s. The person got an apology and their answers are unchanged; "
                "further failures for the same cause are not logged until it answers again.",
                url,
                action,
                cause,
            )
            if self.cause is None:
                self.since = time.monotonic()
            self.cause = cause
        else:
            logger.debug("Action server still failing (%d calls): %s", self.failures, cause)

    def answered(self, url: str) -> None:
        if self.cause is not None:
            logger.warning(
                "Action server at %s answers again after %d failed calls in %.0f s.",
                url,
                self.failures,
                time.monotonic() - self.since,
            )
        self.cause, self.failures = None, 0


OUTAGE = _Outage()


class KeptAliveSessions:
    """HTTP sessions to the action server kept open between calls: one per event loop and endpoint.

    Rasa's ``EndpointConfig.request`` opens a new ``aiohttp.ClientSession`` -
    a new connection pool, a new TCP connection - for every action call and
    closes it afterwards (~9 % of the Rasa server's time per turn,
    bench/NOTES.md). Here connections are reused. An idle connection is let go
    after :data:`KEEP_ALIVE_SECONDS`, before the action server's own
    keep-alive (Sanic's default, 5 s) closes it from its side; a request that
    still meets a connection the server has just closed is sent once more on
    a new one (actions are pure functions of the tracker, so a repeat is
    harmless).
    """

    def __init__(self) -> None:
        self._sessions: dict[tuple[int, Any], aiohttp.ClientSession] = {}

    def get(self, endpoint: Any) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        for key, session in list(self._sessions.items()):  # sessions of loops that are gone
            if session.closed or getattr(session, "_loop", loop).is_closed():
                self._forget(key)
        auth = endpoint.basic_auth or None
        key = (id(loop), tuple(sorted(auth.items())) if isinstance(auth, dict) else None)
        session = self._sessions.get(key)
        if session is None:
            session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(keepalive_timeout=KEEP_ALIVE_SECONDS),
                auth=aiohttp.BasicAuth(auth["username"], auth["password"]) if isinstance(auth, dict) else None,
            )
            self._sessions[key] = session
        return session

    def _forget(self, key: tuple[int, Any]) -> None:
        session = self._sessions.pop(key)
        connector = session.connector
        session.detach()  # closed without awaiting: its loop may be gone
        if connector is not None:
            connector._close()  # what the awaitable close() does, synchronously

    def close_all(self) -> None:
        """Let every connection go (at exit: no "Unclosed client session" warnings)."""
        for key in list(self._sessions):
            self._forget(key)

    async def post_json(self, endpoint: Any, body: Any, timeout: float, compress: bool) -> Any:
        """What ``EndpointConfig.request(method="post", json=body, ...)`` does, on a kept-alive connection."""
        from rasa.utils.endpoints import ClientResponseError

        headers = {"Content-Type": "application/json", **(endpoint.headers or {})}
        try:
            ssl_context = _ssl_context(endpoint.cafile) if endpoint.cafile else None
        except OSError as err:  # a missing or unreadable cafile: no connection can be made
            raise aiohttp.ClientConnectionError(f"cafile {endpoint.cafile}: {err}") from err
        params = endpoint.combine_parameters({})
        for attempt in (1, 2):
            try:
                async with self.get(endpoint).post(
                    endpoint.url,
                    json=body,
                    headers=headers,
                    params=params,
                    compress=compress,
                    ssl=ssl_context,
                    timeout=aiohttp.ClientTimeout(total=timeout),
                ) as response:
                    if response.status >= 400:
                        raise ClientResponseError(response.status, response.reason, await response.content.read())
                    try:
                        return await response.json()
                    except aiohttp.ContentTypeError:
                        return None
            except aiohttp.ServerDisconnectedError:
                if attempt == 2:
                    raise
        return None  # not reached


@functools.lru_cache(maxsize=4)
def _ssl_context(cafile: str) -> Any:
    """The TLS context trusting ``cafile`` (the action endpoint's ``cafile``), built once."""
    import ssl

    return ssl.create_default_context(cafile=cafile)


KEEP_ALIVE_SECONDS = 2.0
SESSIONS = KeptAliveSessions()
atexit.register(SESSIONS.close_all)


class ResponseSchema:
    """Rasa's action-response schema, checked with the same verdicts in a fraction of the time.

    The schema's events are a ``oneOf`` over every Rasa event type (about 30),
    each alternative fixing ``event`` to its own constant. jsonschema tries
    every alternative on every event; since no two share a constant, an event
    satisfies the ``oneOf`` exactly when it satisfies the alternative named by
    its ``event`` field. So the response is checked against the schema with
    the ``oneOf`` taken out, and each event against its own alternative only;
    anything else (an unknown event type, a schema that changed shape) goes
    through the whole schema. A response that fails is checked again with the
    whole schema, so the error reported is the one Rasa would report.
    (~10 % of the Rasa server's time per turn before, bench/NOTES.md.)
    """

    def __init__(self, schema: dict[str, Any]) -> None:
        import copy

        from jsonschema.validators import validator_for

        def compile_(part: dict[str, Any]) -> Any:
            cls = validator_for(schema)  # the whole schema's draft for every part
            cls.check_schema(part)
            return cls(part)

        self.full = compile_(schema)
        self.base: Any = None
        self.by_event: dict[str, Any] = {}
        items = schema.get("properties", {}).get("events", {}).get("items", {})
        alternatives = items.get("oneOf") if isinstance(items, dict) else None
        names = [alt.get("properties", {}).get("event", {}).get("const") for alt in alternatives or []]
        if alternatives and all(isinstance(name, str) for name in names) and len(set(names)) == len(names):
            base = copy.deepcopy(schema)
            del base["properties"]["events"]["items"]["oneOf"]
            self.base = compile_(base)
            self.by_event = {name: compile_(alt) for name, alt in zip(names, alternatives, strict=True)}

    def is_valid(self, response: Any) -> bool:
        """Whether the whole schema accepts the response (the same answer as ``self.full.is_valid``)."""
        if self.base is None:
            return self.full.is_valid(response)
        if not self.base.is_valid(response):
            return False
        events = response.get("events") if isinstance(response, dict) else None
        if not isinstance(events, list):
            return True  # no events (or not a list, which the base schema has already judged)
        for event in events:
            validator = self.by_event.get(event.get("event")) if isinstance(event, dict) else None
            if validator is None:
                return self.full.is_valid(response)  # an event no alternative names: the whole schema decides
            if not validator.is_valid(event):
                return False
        return True

    def best_error(self, response: Any) -> Any:
        """The error Rasa's validation would report (None when the response is valid)."""
        from jsonschema.exceptions import best_match

        return None if self.is_valid(response) else best_match(self.full.iter_errors(response))


@functools.lru_cache(maxsize=1)
def response_schema() -> ResponseSchema:
    """Rasa's action-response schema, compiled once (it is a constant)."""
    from rasa.core.actions.action import RemoteAction

    return ResponseSchema(RemoteAction.action_response_format_spec())


@functools.lru_cache(maxsize=1)
def resilient_remote_action_class() -> type:
    """The subclass (built on first use, since importing Rasa takes seconds)."""
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction, create_bot_utterance
    from rasa.core.constants import COMPRESS_ACTION_SERVER_REQUEST_ENV_NAME, DEFAULT_COMPRESS_ACTION_SERVER_REQUEST
    from rasa.plugin import plugin_manager
    from rasa.shared.core import events
    from rasa.utils.common import get_bool_env_variable
    from rasa.utils.endpoints import ClientResponseError

    class ResilientRemoteAction(RemoteAction):
        """Rasa's ``RemoteAction`` with a configured timeout and an apology instead of silence."""

        async def run(self, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Event]:
            if not self.action_endpoint:
                return await super().run(output_channel, nlg, tracker, domain)  # Rasa's own error
            url = str(self.action_endpoint.url)
            timeout = action_timeout(self.action_endpoint)
            json_body = self._action_call_format(tracker, domain)
            try:
                modified_json = plugin_manager().hook.prefix_stripping_for_custom_actions(json_body=json_body)
                response: Any = await SESSIONS.post_json(
                    self.action_endpoint,
                    modified_json if modified_json else json_body,
                    timeout,
                    compress=get_bool_env_variable(
                        COMPRESS_ACTION_SERVER_REQUEST_ENV_NAME, DEFAULT_COMPRESS_ACTION_SERVER_REQUEST
                    ),
                )
                if modified_json:
                    plugin_manager().hook.prefixing_custom_actions_response(json_body=json_body, response=response)
                if not isinstance(response, dict):
                    raise ValueError("the answer is not a JSON object")
                self._validate_action_result(response)
                evts = events.deserialise_events(response.get("events", []))
            except ClientResponseError as err:
                if err.status == 400:
                    return await self._rejected(err)
                cause = f"HTTP {err.status} {err.message or ''}".strip()
            except asyncio.TimeoutError:
                cause = f"no answer within {timeout:g} s (action_endpoint timeout)"
            except aiohttp.ClientConnectionError as err:
                cause = f"cannot connect ({type(err).__name__}: {err})"
            except ActionExecutionRejection:
                raise
            except Exception as err:  # an answer that is not an action result
                cause = f"invalid answer ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})"
            else:
                OUTAGE.answered(url)
                bot_messages = await self._utter_responses(response.get("responses", []), output_channel, nlg, tracker)
                return list(bot_messages) + list(evts)
            OUTAGE.failed(self.name(), url, cause)
            return [create_bot_utterance({"text": APOLOGY})]

        def _validate_action_result(self, result: Any) -> bool:
            """Rasa's validation with the schema compiled once, not on every turn.

            ``jsonschema.validate`` re-checks the (large, constant) response schema
            against the meta-schema and builds a validator each call: about half
            of the validation time of a turn; :class:`ResponseSchema` then
            checks each event against its own event type only (bench/NOTES.md).
            """
            from jsonschema import ValidationError

            error = response_schema().best_error(result)
            if error is not None:
                message = error.message + (
                    ". Failed to validate Action server response from API, make sure your response from the "
                    "Action endpoint is valid."
                )
                raise ValidationError(message)
            return True

        async def _rejected(self, err: Any) -> List[Event]:
            """HTTP 400 is the action server saying "rejected": Rasa's own handling (a rule may catch it)."""
            import json

            try:
                data = json.loads(err.text)
                exception = ActionExecutionRejection(data["action_name"], data.get("error"))
            except (ValueError, KeyError, TypeError):
                exception = ActionExecutionRejection(self.name(), "rejected by the action server")
            logger.error(exception.message)
            raise exception

    return ResilientRemoteAction


def install() -> type:
    """Make Rasa create custom actions as :class:`ResilientRemoteAction` (idempotent); returns the class."""
    import rasa.core.actions.action as rasa_actions

    current = rasa_actions.RemoteAction
    if getattr(current, "resilient", False):
        return current
    cls = resilient_remote_action_class()
    cls.resilient = True  # type: ignore[attr-defined]
    rasa_actions.RemoteAction = cls  # type: ignore[misc]
    return cls


def install_graph_runner() -> type:
    """Make the server run its model graph with ``ops.graph_runner.PlannedGraphRunner`` (idempotent).

    ``MessageProcessor`` looks ``DaskGraphRunner`` up in its module each time it
    loads a model, so replacing that name there reaches the server and nothing
    else (training builds its own runner).
    """
    import rasa.core.processor as rasa_processor

    from ops.graph_runner import PlannedGraphRunner

    rasa_processor.DaskGraphRunner = PlannedGraphRunner  # type: ignore[misc]
    return PlannedGraphRunner


def install_domain_memo() -> None:
    """Answer ``Domain.is_empty`` once per domain (idempotent).

    The processor asks it for every message before checking the message's
    intent and entities against the domain, and Rasa answers by building an
    empty domain and comparing both as dictionaries - a few percent of a turn.
    A loaded domain does not change while the server runs (a new model brings
    a new domain object), so the first answer stands.
    """
    from rasa.shared.core.domain import Domain

    if getattr(Domain.is_empty, "memoized", False):
        return
    compare = Domain.is_empty

    @functools.wraps(compare)
    def is_empty(self: Domain) -> bool:
        known = self.__dict__.get("_is_empty")
        if known is None:
            known = self.__dict__["_is_empty"] = compare(self)
        return known

    is_empty.memoized = True  # type: ignore[attr-defined]
    Domain.is_empty = is_empty  # type: ignore[method-assign]


def main(argv: Optional[list[str]] = None) -> None:
    """Rasa's command line (``rasa run``, ``rasa shell``, ...) with :func:`install` done first.

    Before anything imports Rasa, ``ops.tensorflow_free.prepare`` decides from
    the model whether TensorFlow needs loading at all.
    """
    from ops.tensorflow_free import prepare

    args = list(argv if argv is not None else sys.argv[1:])
    prepare(args)
    install()
    install_graph_runner()
    from ops import count_vectors, rule_memo

    rule_memo.install()
    count_vectors.install()
    install_domain_memo()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *args]
    rasa_main()


if __name__ == "__main__":
    main()
