"""The lock store: in-process locks by default, Redis when several processes share conversations.

Rasa locks a conversation while it handles one of its messages, so that two
messages of the same conversation are never processed at once. In one process
an in-memory lock does that; with several Rasa instances (or Sanic workers)
the lock must be shared, in Redis. ``LOCK_STORE_URL`` chooses:

- unset: ``InMemoryLockStore`` (one Rasa process, ``make run``);
- ``redis://[:password@]host[:port][/db]`` (``rediss://`` for TLS): Rasa's
  ``RedisLockStore``; ``LOCK_STORE_PASSWORD`` overrides the URL's password so
  it can come from a secret of its own. The default database is 1, as in
  Rasa's Helm chart.

One trap this class closes: Rasa honours ``SANIC_WORKERS`` > 1 only when the
lock store is not in memory - and it decides from the *type* written in
``endpoints.yml``. Any custom class passes that check, so with this class and
no Redis, Rasa would start several workers sharing nothing. Here that
combination refuses to start, with a message saying what to set.

Two defects of Rasa 3.6's ticket lock are fixed here, both found by killing a
Rasa instance mid-load (tests/cluster):

- **A waiter that never wakes.** A ticket's lifetime (``TICKET_LOCK_LIFETIME``,
  default 60 s) counts from when it is issued, waiting included. When an
  instance dies holding a conversation's ticket, the next message waits for
  that ticket to expire - and if its own ticket expires in the same polling
  second, the lock is left with no ticket, "now serving" becomes 0 and Rasa's
  loop waits forever (until the client gives up). Here a ticket found expired
  while waiting is simply issued again, at the back of the queue.
- **Lost updates between instances.** Rasa reads a lock from Redis, changes it
  and writes it back; two instances doing that at once for one conversation
  can both get ticket 0 and handle two messages of it at the same time. Here
  every change is a Redis transaction (WATCH/MULTI, retried on conflict).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Callable, Optional
from urllib.parse import unquote, urlsplit

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, LockStore, RedisLockStore
from redis.exceptions import RedisError, WatchError

from stores import http_guard

logger = logging.getLogger(__name__)


class LockStoreConfigError(ValueError):
    """The environment asks for a lock store set-up that cannot work."""


def redis_settings(url: str, password: Optional[str] = None) -> dict[str, Any]:
    """RedisLockStore's arguments for a ``redis://`` or ``rediss://`` URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise LockStoreConfigError(f"LOCK_STORE_URL must look like redis://host:6379/1, not {url!r}")
    db = parts.path.strip("/") or "1"
    if not db.isdigit():
        raise LockStoreConfigError(f"LOCK_STORE_URL: the database must be a number, not {db!r}")
    return {
        "host": parts.hostname,
        "port": parts.port or 6379,
        "db": int(db),
        "username": unquote(parts.username) if parts.username else None,
        "password": password or (unquote(parts.password) if parts.password else None),
        "use_ssl": parts.scheme == "rediss",
    }


def sanic_workers(env: Optional[dict[str, str]] = None) -> int:
    """SANIC_WORKERS as Rasa reads it (1 when unset or not a number)."""
    env = os.environ if env is None else env
    try:
        return int(env.get("SANIC_WORKERS", "1"))
    except ValueError:
        return 1


class ConfiguredLockStore(LockStore):
    """Redis or in-memory locks, from ``LOCK_STORE_URL`` (see module docstring).

    ``endpoints.yml``: ``lock_store: {type: stores.lock_store.ConfiguredLockStore}``.
    Storage is Rasa's (RedisLockStore or InMemoryLockStore, same keys and format);
    the ticket protocol is Rasa's too, with the two fixes described above.
    """

    def __init__(self, endpoint_config: Any = None, env: Optional[dict[str, str]] = None) -> None:
        env = os.environ if env is None else env
        url = (env.get("LOCK_STORE_URL") or "").strip()
        if url:
            settings = redis_settings(url, env.get("LOCK_STORE_PASSWORD") or None)
            prefix = (env.get("LOCK_STORE_KEY_PREFIX") or "").strip() or None
            self.backend: LockStore = RedisLockStore(**settings, key_prefix=prefix)
            self.description = f"Redis at {settings['host']}:{settings['port']}/{settings['db']}"
        else:
            workers = sanic_workers(env)
            if workers > 1:
                raise LockStoreConfigError(
                    f"SANIC_WORKERS={workers} needs a shared lock store: set LOCK_STORE_URL=redis://host:6379/1 "
                    "(or SANIC_WORKERS=1). In-process locks cannot keep two workers from handling "
                    "the same conversation at once."
                )
            self.backend = InMemoryLockStore()
            self.description = "this process (in memory)"
        self._available = True
        super().__init__()
        logger.info("Conversation locks are kept in %s.", self.description)
        http_guard.install()

    # -- Rasa's ticket protocol, with atomic changes and a wait that always ends

    @asynccontextmanager
    async def lock(
        self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = 1
    ) -> AsyncIterator[TicketLock]:
        """Hold the conversation while one message is handled (same contract as Rasa's).

        Redis unreachable: LockError, and the request is answered with a 503
        (stores/http_guard.py) - the message is not handled, nothing is written.
        """
        try:
            ticket = self.issue_ticket(conversation_id, lock_lifetime)
            while True:
                lock = self.get_lock(conversation_id)
                if lock is None or not _holds(lock, ticket):
                    # Expired while waiting (or removed with an expired lock): queue again.
                    ticket = self.issue_ticket(conversation_id, lock_lifetime)
                    continue
                if not lock.is_locked(ticket):
                    break
                await asyncio.sleep(wait_time_in_seconds)
                self.update_lock(conversation_id)
        except RedisError as err:
            self._mark_unavailable(err)
            http_guard.note_failure(err, "LockStoreUnavailable")
            raise LockError(f"lock store {self.description} unavailable: {err}") from None
        self._mark_available()
        try:
            yield lock
        finally:
            try:
                self.cleanup(conversation_id, ticket)
            except RedisError as err:
                # The message was handled and stored; its ticket simply expires.
                logger.warning("Could not release the lock of %r in %s: %s", conversation_id, self.description, err)

    def _mark_unavailable(self, err: BaseException) -> None:
        if self._available:
            self._available = False
            logger.error("Lock store %s unavailable (%s): messages get HTTP 503 until it is back.", self.description, err)

    def _mark_available(self) -> None:
        if not self._available:
            self._available = True
            logger.warning("Lock store %s is reachable again.", self.description)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Append a ticket to the conversation's queue and return its number."""
        issued: list[int] = []

        def add(lock: Optional[TicketLock]) -> TicketLock:
            lock = lock or self.create_lock(conversation_id)
            issued.append(lock.issue_ticket(lock_lifetime))
            return lock

        self._change(conversation_id, add)
        return issued[-1]

    def update_lock(self, conversation_id: str) -> None:
        """Drop expired tickets."""

        def expire(lock: Optional[TicketLock]) -> Optional[TicketLock]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock

        self._change(conversation_id, expire)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Remove one ticket."""

        def finish(lock: Optional[TicketLock]) -> Optional[TicketLock]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return lock

        self._change(conversation_id, finish)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Remove one ticket, and the lock with it when nobody else waits."""

        def finish(lock: Optional[TicketLock]) -> Optional[TicketLock]:
            if lock is None:
                return None
            lock.remove_ticket_for(ticket_number)
            return lock if lock.is_someone_waiting() else None

        self._change(conversation_id, finish)

    def _change(self, conversation_id: str, change: Callable[[Optional[TicketLock]], Optional[TicketLock]]) -> None:
        """Read, change and write one conversation's lock as one step (None: delete it)."""
        backend = self.backend
        if not isinstance(backend, RedisLockStore):
            # One process, one event loop, no await in between: already atomic.
            before = backend.get_lock(conversation_id)
            after = change(before)
            if after is not None:
                backend.save_lock(after)
            elif before is not None:
                backend.delete_lock(conversation_id)
            return
        key = backend.key_prefix + conversation_id
        while True:
            with backend.red.pipeline() as pipe:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    after = change(TicketLock.from_dict(json.loads(raw)) if raw else None)
                    pipe.multi()
                    if after is not None:
                        pipe.set(key, after.dumps())
                    else:
                        pipe.delete(key)
                    pipe.execute()
                    return
                except WatchError:
                    continue  # another instance changed it first: read again

    # -- storage

    def get_lock(self, conversation_id: str) -> Optional[TicketLock]:
        """The conversation's lock, if any."""
        return self.backend.get_lock(conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        """Remove the conversation's lock."""
        self.backend.delete_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        """Store the lock."""
        self.backend.save_lock(lock)


def _holds(lock: TicketLock, ticket: int) -> bool:
    lock.remove_expired_tickets()
    return any(t.number == ticket for t in lock.tickets)
