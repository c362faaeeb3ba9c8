"""Start Rasa with an action-server client that answers in time and never leaves a person in silence.

``python -m ops.rasa_server run ...`` (or ``shell ...``) is Rasa's own command
line - same arguments, same behaviour - after two explicit steps:
``ops.tensorflow_free.prepare`` leaves TensorFlow unloaded when the model to
serve runs none (this project's: seconds and hundreds of MB saved at start),
and :func:`install` makes Rasa call custom actions through
:class:`ResilientRemoteAction`. ``ops.stack`` (``make run``, ``make shell``,
the tests) starts Rasa this way; anything that starts ``rasa`` directly gets
Rasa's stock behaviour.

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
  one line when the action server answers again.

It is put in place by replacing the ``RemoteAction`` name in
``rasa.core.actions.action``, which is where Rasa looks it up each time it
creates a custom action (``action_for_name_or_text``), explicitly here at start
rather than as a side effect of importing some module.
"""

from __future__ import annotations

import asyncio
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


@functools.lru_cache(maxsize=1)
def _response_validator() -> Any:
    """A compiled validator for Rasa's action-response schema (a constant, built once)."""
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


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
                response: Any = await self.action_endpoint.request(
                    json=modified_json if modified_json else json_body,
                    method="post",
                    timeout=aiohttp.ClientTimeout(total=timeout),
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
            """Rasa's validation with the schema checked and compiled once, not on every turn.

            ``jsonschema.validate`` re-checks the (large, constant) response schema
            against the meta-schema and builds a validator each call: about half
            of the validation time of a turn (bench/NOTES.md).
            """
            from jsonschema import ValidationError
            from jsonschema.exceptions import best_match

            error = best_match(_response_validator().iter_errors(result))
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


def main(argv: Optional[list[str]] = None) -> None:
    """Rasa's command line (``rasa run``, ``rasa shell``, ...) with :func:`install` done first.

    Before anything imports Rasa, ``ops.tensorflow_free.prepare`` decides from
    the model whether TensorFlow needs loading at all.
    """
    from ops.tensorflow_free import prepare

    args = list(argv if argv is not None else sys.argv[1:])
    prepare(args)
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *args]
    rasa_main()


if __name__ == "__main__":
    main()
