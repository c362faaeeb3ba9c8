"""HTTP 503 for a request whose conversation store or lock store failed.

Rasa's channels catch every exception raised while a message is handled and
answer as usual (REST: HTTP 200 with whatever was said so far, often nothing),
so a database outage would look like a bot with nothing to say. The stores
record a failure in the current request's state instead (a context variable,
set up by a Sanic request middleware), and a response middleware turns that
request's answer into a 503 with a JSON body saying what happened and that
nothing said before is lost. The HTTP API's own errors (e.g. the tracker
endpoint's 500) are replaced the same way; authentication is checked before
any store is touched, so a request without the token still gets its 401.

The middlewares are registered on Rasa's Sanic app by the stores when Rasa
creates them (Rasa offers no other hook for this); outside a Rasa server
(tests, scripts) nothing is registered and nothing changes.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from typing import Any, Callable, Optional

# The Sanic apps Rasa creates: `rasa run --enable-api` / `rasa shell`, and `rasa run` without the API.
RASA_APP_NAMES = ("rasa_server", "rasa_core_no_api")

MESSAGES = {
    "TrackerStoreUnavailable": "The conversation store is unavailable, so this message was not processed. "
    "Nothing said before is lost: please send it again in a moment.",
    "LockStoreUnavailable": "The conversation lock store is unavailable, so this message was not processed. "
    "Nothing said before is lost: please send it again in a moment.",
}


@dataclass
class RequestState:
    failure: Optional[BaseException] = None
    reason: str = ""


# Set by the request middleware for each HTTP request; None outside requests.
_request: contextvars.ContextVar[Optional[RequestState]] = contextvars.ContextVar("conversation_store_request", default=None)

# Run at the start of every request (the tracker store attaches its FailSafe hook here).
_request_hooks: list[Callable[[Any], None]] = []


def begin_request() -> RequestState:
    """Start a fresh failure record for the current request (the middleware's job; tests call it too)."""
    state = RequestState()
    _request.set(state)
    return state


def note_failure(err: BaseException, reason: str) -> None:
    """Record that a store failed while handling the current request (first failure wins)."""
    state = _request.get()
    if state is not None and state.failure is None:
        state.failure, state.reason = err, reason


def failure_in_request() -> Optional[BaseException]:
    state = _request.get()
    return state.failure if state is not None else None


async def _on_request(request: Any) -> None:
    begin_request()
    for hook in _request_hooks:
        hook(request.app)


async def _on_response(request: Any, response: Any) -> Any:
    state = _request.get()
    if state is None or state.failure is None or getattr(response, "status", None) == 503:
        return None
    from sanic import response as sanic_response

    return sanic_response.json(
        {"status": "failure", "reason": state.reason, "message": MESSAGES[state.reason], "code": 503},
        status=503,
        headers={"Retry-After": "5"},
    )


def install(on_request: Optional[Callable[[Any], None]] = None) -> bool:
    """Register the middlewares on Rasa's Sanic app (once); False outside a Rasa server."""
    from sanic import Sanic
    from sanic.exceptions import SanicException

    if on_request is not None and on_request not in _request_hooks:
        _request_hooks.append(on_request)
    installed = False
    for name in RASA_APP_NAMES:
        try:
            app = Sanic.get_app(name)
        except SanicException:
            continue
        if not getattr(app.ctx, "conversation_store_guard", False):
            app.register_middleware(_on_request, "request")
            app.register_middleware(_on_response, "response")
            app.ctx.conversation_store_guard = True
        installed = True
    return installed
