"""The web chat: Rasa's socket.io channel plus the chat page, from one server.

Why a subclass of Rasa's :class:`SocketIOInput` rather than the built-in
``socketio:`` channel and a separate static server:

- **One origin.** The page, its assets and the socket.io endpoint are served by
  the Rasa server itself (``/chat/`` and ``/socket.io/``), so ``make run``
  prints one URL and the browser never makes a cross-origin request.
- **Origins checked.** Rasa builds its socket.io server with
  ``cors_allowed_origins=[]``, which switches python-engineio's origin check
  *off*: any web page could open a socket to the assistant. Here the check is
  on again: the page's own origin (whatever host and port Rasa is reached on)
  plus the origins listed under ``cors_allowed_origins`` in credentials.yml or
  in ``WEBCHAT_ALLOWED_ORIGINS`` (comma-separated). ``*`` is refused.
- **One bubble per bot message.** Rasa's output splits text on blank lines
  into separate events and sends a custom payload as keyword arguments to
  ``emit`` (which fails for anything but ``{"data": ...}``). The widget needs
  text, quick replies and the custom payload (comparison table, decision
  record) of one bot message together, so :class:`WebChatOutput` sends them as
  one ``bot_uttered`` event.

Everything else - the ``session_request``/``session_confirm`` handshake, session
persistence through socket.io rooms, ``user_uttered`` handling - is Rasa's own
code, deliberately: the browser test of a page reload exercises exactly what
python-socketio's pin in requirements.lock protects (5.10 made ``enter_room`` a
coroutine that Rasa 3.6 never awaits, so replies stop reaching the page).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

logger = logging.getLogger(__name__)

PROJECT = Path(__file__).resolve().parent.parent
WEB_DIR = PROJECT / "web"
SOCKET_IO_CLIENT = PROJECT / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
PAGE_PATH = "/chat"
ORIGINS_ENV = "WEBCHAT_ALLOWED_ORIGINS"
PageRoute = tuple[str, Callable[..., Awaitable[HTTPResponse]], str]

# The only files the page route serves: a fixed list, so no request path ever
# reaches the file system.
ASSETS: Dict[str, tuple[Path, str]] = {
    "widget.js": (WEB_DIR / "widget.js", "text/javascript; charset=utf-8"),
    "widget.css": (WEB_DIR / "widget.css", "text/css; charset=utf-8"),
    "socket.io.min.js": (SOCKET_IO_CLIENT, "text/javascript; charset=utf-8"),
}

# Scripts, styles and connections from this origin only: even if some text
# slipped past the widget's textContent rendering, no inline or foreign script
# could run.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class WebChatOutput(SocketIOOutput):
    """Sends each bot message as one ``bot_uttered`` event the widget renders as one bubble."""

    @classmethod
    def name(cls) -> str:
        return "webchat"

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        event: Dict[str, Any] = {}
        if message.get("text"):
            event["text"] = message["text"]
        buttons = message.get("quick_replies") or message.get("buttons") or []
        if buttons:
            event["quick_replies"] = [
                {"content_type": "text", "title": b.get("title", ""), "payload": b.get("payload", "")} for b in buttons
            ]
        if message.get("custom") is not None:
            event["custom"] = message["custom"]
        if message.get("image"):
            event["attachment"] = {"type": "image", "payload": {"src": message["image"]}}
        elif message.get("attachment"):
            event["attachment"] = message["attachment"]
        if event:
            await self._send_message(recipient_id, event)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"text": text})

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"custom": json_message})


class WebChatInput(SocketIOInput):
    """Rasa's socket.io channel with origin checks, plus the chat page at ``/chat/``.

    Configured in credentials.yml under ``channels.webchat.WebChatInput`` with
    the same keys as Rasa's ``socketio`` channel (``session_persistence`` etc.)
    and ``cors_allowed_origins``: extra origins allowed besides the page's own.
    """

    @classmethod
    def name(cls) -> str:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> WebChatInput:
        credentials = credentials or {}
        channel: WebChatInput = super().from_credentials(credentials)  # type: ignore[assignment]
        listed = list(credentials.get("cors_allowed_origins") or [])
        listed += [o for o in os.environ.get(ORIGINS_ENV, "").split(",")]
        channel.allowed_origins = _clean_origins(listed)
        return channel

    allowed_origins: frozenset[str] = frozenset()

    def origin_allowed(self, origin: Optional[str], environ: Optional[Dict[str, Any]] = None) -> bool:
        """python-engineio's origin check: the page's own origin or a listed one."""
        if not origin:
            return True
        environ = environ or {}
        own = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
        return origin == own or origin in self.allowed_origins

    def get_output_channel(self) -> Optional[OutputChannel]:
        if self.sio is None:
            return super().get_output_channel()
        return WebChatOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def with_webchat_output(message: UserMessage) -> Any:
            # Rasa's handler builds a plain SocketIOOutput; replies go through ours.
            message.output_channel = WebChatOutput(self.sio, self.bot_message_evt)
            return await on_new_message(message)

        # Rasa's blueprint() registers its socket.io event handlers on self.sio; the
        # blueprint it returns only attaches that server and answers a health check,
        # which WebChatBlueprint does too, plus the page.
        super().blueprint(with_webchat_output)
        assert self.sio is not None
        self.sio.eio.cors_allowed_origins = self.origin_allowed
        if not SOCKET_IO_CLIENT.exists():
            logger.warning("Web chat: %s is missing - run `make install` (npm ci) to serve the chat page.", SOCKET_IO_CLIENT)
        blueprint = WebChatBlueprint(self.sio, self.socketio_path, self._page_routes(), "webchat_webhook", __name__)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        return blueprint

    def _page_routes(self) -> list[PageRoute]:
        config = {
            "socketPath": self.socketio_path,
            "userMessageEvent": self.user_message_evt,
            "botMessageEvent": self.bot_message_evt,
            "sessionPersistence": bool(self.session_persistence),
        }

        async def page(_: Request) -> HTTPResponse:
            return await response.file(WEB_DIR / "index.html", mime_type="text/html; charset=utf-8", headers=SECURITY_HEADERS)

        async def page_config(_: Request) -> HTTPResponse:
            return response.json(config, headers=SECURITY_HEADERS)

        async def asset(_: Request, name: str) -> HTTPResponse:
            if name not in ASSETS or not ASSETS[name][0].exists():
                return response.text("not found", status=404, headers=SECURITY_HEADERS)
            path, mime_type = ASSETS[name]
            return await response.file(path, mime_type=mime_type, headers=SECURITY_HEADERS)

        return [
            (PAGE_PATH, page, "webchat_page"),
            (f"{PAGE_PATH}/", page, "webchat_page_slash"),
            (f"{PAGE_PATH}/config.json", page_config, "webchat_config"),
            (f"{PAGE_PATH}/<name:str>", asset, "webchat_asset"),
        ]


def _clean_origins(origins: list[str]) -> frozenset[str]:
    cleaned = set()
    for origin in (o.strip().rstrip("/") for o in origins):
        if not origin:
            continue
        if origin == "*" or not origin.startswith(("http://", "https://")):
            logger.error("Web chat: ignoring allowed origin %r: list full origins (http://host:port), never '*'.", origin)
            continue
        cleaned.add(origin)
    return frozenset(cleaned)


class WebChatBlueprint(SocketBlueprint):
    """Rasa's socket.io blueprint that also serves the chat page at the server's top level.

    Rasa mounts every channel blueprint under ``/webhooks/<name>/``; people should
    get a short URL, so the page routes go onto the app itself when the blueprint
    is registered - as python-socketio does for ``/socket.io/``.
    """

    def __init__(self, sio: AsyncServer, socketio_path: str, page_routes: list[PageRoute], *args: Any, **kwargs: Any) -> None:
        super().__init__(sio, socketio_path, *args, **kwargs)
        self.ctx.page_routes = page_routes

    def register(self, app: Sanic, options: Dict[str, Any]) -> None:
        super().register(app, options)
        for uri, handler, name in self.ctx.page_routes:
            app.add_route(handler, uri, methods=["GET"], name=name, strict_slashes=True)
