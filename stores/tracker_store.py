"""The tracker store: Rasa's SQL store on SQLite by default, PostgreSQL when configured.

Why a class of our own rather than ``type: sql`` in ``endpoints.yml``:

- **Defaults.** ``TRACKER_STORE_URL`` unset means the SQLite file
  ``TRACKER_DB`` (default ``var/conversations.db`` under the project), so
  ``make run`` keeps conversations across restarts with no setup, while a
  cluster sets ``TRACKER_STORE_URL=postgresql://...`` - same files, no code
  change. Rasa's own ``${VAR}`` expansion cannot express a default.
- **An outage is an error, not a new conversation.** Rasa wraps every tracker
  store in ``FailSafeTrackerStore``, which answers a failed read with "no such
  conversation" and a failed write by keeping the tracker in memory. With the
  database down, Rasa therefore greets a returning user as a stranger, answers
  with HTTP 200, and the turn is silently lost. Here a database error aborts
  the turn instead: the request gets a 503 with a message saying so, nothing
  is written, and the conversation carries on, intact, once the database is
  back (connections are checked before use, so recovery needs no restart).
- The schema is exactly Rasa's (``SQLTrackerStore.SQLEvent``): a database
  written by this class can be read by ``type: sql`` and vice versa.

How the 503 gets out: Rasa's channels catch every exception of a turn and
answer normally, so the failure is recorded for the request and turned into
the 503 by ``stores/http_guard.py``; the failing read is made to propagate
through ``FailSafeTrackerStore`` with its ``on_tracker_store_error`` hook, so
the turn stops there. The socket.io channel has no HTTP response per message:
there the person gets no answer for that turn (rather than a wrong one).
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import os
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Optional, TypeVar

import sqlalchemy as sa
import sqlalchemy.exc
from rasa.core.constants import POSTGRESQL_MAX_OVERFLOW, POSTGRESQL_POOL_SIZE, POSTGRESQL_SCHEMA
from rasa.core.tracker_store import (
    POSTGRESQL_DEFAULT_MAX_OVERFLOW,
    POSTGRESQL_DEFAULT_POOL_SIZE,
    FailSafeTrackerStore,
    SQLTrackerStore,
    TrackerStore,
)
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import URL, make_url

from stores import http_guard

logger = logging.getLogger(__name__)

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_FILE = "var/conversations.db"
STORED_COUNTS_LIMIT = 10_000  # conversations read and not yet saved, remembered at most
WRITTEN_CACHE_SIZE = 2_000  # conversations whose events are kept in memory (least recently used go)
# The events-table columns each saved event fills (`_row` gives them in this order).
EVENT_COLUMNS = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")


class TrackerStoreUnavailable(RuntimeError):
    """The tracker store could not be read or written; the turn must not go on."""


class TrackerStoreConfigError(ValueError):
    """The environment names a tracker store this class cannot use."""


# -- configuration --------------------------------------------------------------------


def database_url(env: Optional[dict[str, str]] = None) -> URL:
    """The SQLAlchemy URL the environment asks for.

    ``TRACKER_STORE_URL`` (``postgresql://user@host:port/db``; ``postgres://`` is
    accepted too) wins; ``TRACKER_STORE_PASSWORD``, when set, replaces the
    URL's password so that it can come from a secret of its own. Otherwise the
    SQLite file ``TRACKER_DB`` (relative paths are relative to the project).
    """
    env = os.environ if env is None else env
    raw = (env.get("TRACKER_STORE_URL") or "").strip()
    if raw:
        if raw.startswith("postgres://"):
            raw = "postgresql://" + raw[len("postgres://") :]
        try:
            url = make_url(raw)
        except sqlalchemy.exc.ArgumentError as err:
            raise TrackerStoreConfigError(f"TRACKER_STORE_URL is not a database URL: {err}") from None
        if url.get_backend_name() not in ("postgresql", "sqlite"):
            raise TrackerStoreConfigError(
                f"TRACKER_STORE_URL: unsupported database {url.get_backend_name()!r} (use postgresql:// or sqlite:///)"
            )
        password = env.get("TRACKER_STORE_PASSWORD")
        if password:
            url = url.set(password=password)
        return url
    path = Path(env.get("TRACKER_DB") or DEFAULT_SQLITE_FILE).expanduser()
    if not path.is_absolute():
        path = PROJECT / path
    return URL.create("sqlite", database=str(path))


def describe(url: URL) -> str:
    """The URL without its password, for logs."""
    return url.render_as_string(hide_password=True)


def _engine_kwargs(url: URL) -> dict[str, Any]:
    """Engine options: pooled SQLite; Rasa's PostgreSQL pool settings, plus quick failure and recovery.

    ``pool_pre_ping`` replaces connections the database dropped (a restart)
    before they are used, so the first request after an outage works;
    ``connect_timeout`` bounds how long a request waits for an unreachable host.
    """
    if url.get_backend_name() == "sqlite":
        # SQLAlchemy 1.4 opens and closes a connection per session on a SQLite
        # file (NullPool): a new connection and its PRAGMAs on every read and
        # write. A small pool keeps them open; sqlite3 connections may move
        # between threads when pooled.
        return {"poolclass": sa.pool.QueuePool, "pool_size": 4, "connect_args": {"check_same_thread": False}}
    if url.get_backend_name() != "postgresql":
        return {}
    kwargs: dict[str, Any] = {
        "pool_pre_ping": True,
        "pool_size": int(os.environ.get(POSTGRESQL_POOL_SIZE, POSTGRESQL_DEFAULT_POOL_SIZE)),
        "max_overflow": int(os.environ.get(POSTGRESQL_MAX_OVERFLOW, POSTGRESQL_DEFAULT_MAX_OVERFLOW)),
    }
    connect_args: dict[str, Any] = {"connect_timeout": int(os.environ.get("TRACKER_STORE_CONNECT_TIMEOUT", "5"))}
    schema = os.environ.get(POSTGRESQL_SCHEMA)
    if schema:
        connect_args["options"] = f"-csearch_path={schema}"
    kwargs["connect_args"] = connect_args
    return kwargs


def _tune_sqlite(engine: sa.engine.Engine) -> None:
    """Write-ahead log, fsync at checkpoints: each turn's commit stops waiting for the disk.

    With SQLite's default rollback journal every commit syncs the file twice;
    under load that was a tenth of the Rasa server's time (bench/NOTES.md). In
    WAL mode with ``synchronous=NORMAL`` a commit survives the process being
    killed (the tests' SIGKILL/restart cases); only a power cut or OS crash can
    lose the last turns - acceptable for the single-machine default, and the
    PostgreSQL mode is there for more.
    """

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def caches_writes(env: Optional[dict[str, str]] = None) -> bool:
    """Whether this process may answer reads from what it wrote itself.

    Only when it is the only writer: with the in-memory lock store (no
    ``LOCK_STORE_URL``) Rasa runs one Sanic worker, so nothing else writes the
    conversations; a scaled-out set-up (Redis locks, several instances) always
    reads the database. Reading back a conversation was a sixth of a turn's
    time in the default set-up (bench/NOTES.md). ``TRACKER_CACHE=0`` turns it off.
    """
    env = os.environ if env is None else env
    return not env.get("LOCK_STORE_URL") and env.get("TRACKER_CACHE", "1") != "0"


# -- the store ---------------------------------------------------------------------------

SENDER_MARK = "\x00sender"  # stands for the sender id while a query is compiled


@dataclass(frozen=True)
class CompiledQuery:
    """A query in its driver's SQL, whose parameters are a sender id and fixed values."""

    sql: str
    order: Optional[tuple[str, ...]]  # positional parameters' names in order; None: named
    sender_keys: tuple[str, ...]
    fixed: dict[str, Any]

    def arguments(self, sender_id: str) -> Any:
        params = {**self.fixed, **dict.fromkeys(self.sender_keys, sender_id)}
        return params if self.order is None else tuple(params[key] for key in self.order)


T = TypeVar("T")


def _guarded(method: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """Turn database errors into TrackerStoreUnavailable, logging outage and recovery once."""

    @functools.wraps(method)
    async def wrapper(self: ConfiguredTrackerStore, *args: Any, **kwargs: Any) -> T:
        try:
            result = await method(self, *args, **kwargs)
        except sqlalchemy.exc.SQLAlchemyError as err:
            self._mark_unavailable(err)
            http_guard.note_failure(err, "TrackerStoreUnavailable")
            # The cause was logged once by _mark_unavailable; its two-level traceback
            # (driver error, SQLAlchemy error) would only repeat it for every request.
            cause = str(getattr(err, "orig", None) or err).strip().splitlines()[0]
            raise TrackerStoreUnavailable(f"tracker store {self.description} unavailable: {cause}") from None
        self._mark_available()
        return result

    return wrapper


class ConfiguredTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store on the database the environment names (see module docstring).

    ``endpoints.yml``: ``tracker_store: {type: stores.tracker_store.ConfiguredTrackerStore}``.
    Extra keys there (``url``, ``db``, ...) are ignored: the environment decides.
    """

    def __init__(
        self,
        domain: Any = None,
        host: Optional[str] = None,
        event_broker: Any = None,
        **kwargs: Any,
    ) -> None:
        self.url = database_url()
        self.description = describe(self.url)
        self._available = True
        self._stored_counts: dict[str, int] = {}
        # The events this process last wrote per conversation, to read a
        # conversation back without the database: see `caches_writes`.
        self._written: Optional[OrderedDict[str, list[Any]]] = OrderedDict() if caches_writes() else None
        if self.url.get_backend_name() == "sqlite" and self.url.database:
            Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine = sa.create_engine(self.url, **_engine_kwargs(self.url))
        if self.url.get_backend_name() == "sqlite":
            _tune_sqlite(self.engine)
        self._create_tables()
        self._insert = self._compile_insert()
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)
        self._latest_session = self._compile_latest_session_query()
        # SQLTrackerStore's own __init__ is skipped (it builds its engine from endpoint keys);
        # the base class only needs the domain, the broker and its own options.
        for key in ("dialect", "url", "port", "db", "username", "password", "login_db", "query"):
            kwargs.pop(key, None)
        TrackerStore.__init__(self, domain, event_broker, **kwargs)
        logger.info("Conversations are stored in %s.", self.description)
        http_guard.install(on_request=_attach_to_failsafe)

    def _create_tables(self) -> None:
        """Create Rasa's events table, waiting for a database that is still starting.

        Like Rasa's SQL store it waits as long as it takes (a cluster's database
        may come up after Rasa), logging what it waits for every 30 s. Several
        instances starting together may race to create the table; the loser's
        error is harmless once the table exists.
        """
        started = time.monotonic()
        last_log = -30.0
        while True:
            try:
                self.Base.metadata.create_all(self.engine)
                return
            except (sqlalchemy.exc.ProgrammingError, sqlalchemy.exc.IntegrityError) as err:
                if sa.inspect(self.engine).has_table(self.SQLEvent.__tablename__):
                    return
                raise TrackerStoreUnavailable(f"cannot create the events table in {self.description}: {err}") from err
            except sqlalchemy.exc.OperationalError as err:
                waited = time.monotonic() - started
                if waited - last_log >= 30:
                    cause = err.orig or err
                    logger.warning("Waiting for the tracker store %s (%.0f s so far): %s", self.description, waited, cause)
                    last_log = waited
                time.sleep(1)

    def _mark_unavailable(self, err: BaseException) -> None:
        if self._available:
            self._available = False
            logger.error(
                "Tracker store %s unavailable (%s): requests touching conversations get HTTP 503 until it is back.",
                self.description,
                getattr(err, "orig", None) or err,
            )

    def _mark_available(self) -> None:
        if not self._available:
            self._available = True
            logger.warning("Tracker store %s is reachable again.", self.description)

    @_guarded
    async def retrieve(self, sender_id: str) -> Any:
        """The tracker of the latest session, or None for a new conversation."""
        events = self._written.get(sender_id) if self._written is not None else None
        if events is None:
            return await super().retrieve(sender_id)
        self._written.move_to_end(sender_id)
        # What the database would return: the events from the latest session start on.
        starts = [i for i, event in enumerate(events) if isinstance(event, SessionStarted)]
        latest = events[starts[-1] :] if starts else events
        self._stored_counts[sender_id] = len(latest)
        return DialogueStateTracker.from_events(sender_id, latest, self.domain.slots if self.domain else [])

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> Any:
        """Rasa's read, remembering how many events the latest session has stored.

        ``save`` needs that number to know which events are new; Rasa's store
        counts them again with a query per save (a tenth of a turn). Every turn
        reads before it saves, under the conversation's lock (Rasa's lock store,
        shared by all instances in the scaled-out mode), so the number read is
        still right when the turn saves; it is used once and dropped.

        The latest session is read with Rasa's own query, compiled once
        (:meth:`_compile_latest_session_query`): building it through the ORM
        for every read cost more than running it - each new conversation, and
        in the scaled-out mode every turn, starts with this read.
        """
        if fetch_events_from_all_sessions:
            tracker = await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        else:
            tracker = self._read_latest_session(sender_id)
        if not fetch_events_from_all_sessions and (tracker is not None or self.domain is not None):
            if len(self._stored_counts) >= STORED_COUNTS_LIMIT:
                self._stored_counts.clear()  # reads never followed by a save (GET /tracker)
            self._stored_counts[sender_id] = len(tracker.events) if tracker is not None else 0
        return tracker

    async def create_tracker(self, sender_id: str, append_action_listen: bool = True) -> Any:
        """Rasa's new conversation (saved at once), with its stored count remembered for the
        turn's own save - which would otherwise count the events in the database again."""
        tracker = await super().create_tracker(sender_id, append_action_listen=append_action_listen)
        self._stored_counts[sender_id] = len(tracker.events)
        return tracker

    @_guarded
    async def retrieve_full_tracker(self, conversation_id: str) -> Any:
        """The tracker with every session's events."""
        return await super().retrieve_full_tracker(conversation_id)

    @_guarded
    async def keys(self) -> Any:
        """All conversation ids."""
        return await super().keys()

    @_guarded
    async def save(self, tracker: Any) -> None:
        """Store the tracker's new events - never after a failed read in the same request.

        A read that failed stands for a conversation we could not see; saving
        what the turn built on top of nothing would append a stranger's events
        to the real conversation once the database is back.
        """
        earlier = http_guard.failure_in_request()
        if earlier is not None:
            raise TrackerStoreUnavailable(f"not saving {tracker.sender_id!r}: its conversation could not be read")
        await self.stream_events(tracker)
        stored = self._stored_counts.pop(tracker.sender_id, None)
        if stored is None:
            with self.session_scope() as session:
                new_events = list(self._additional_events(session, tracker))
        else:
            new_events = list(itertools.islice(tracker.events, stored, None))
        rows = [self._row(tracker.sender_id, event) for event in new_events]
        if rows:
            # One multi-row INSERT, compiled once, rather than the ORM's unit of work
            # object by object: the same rows as SQLTrackerStore.save writes, at a
            # fraction of the cost per turn.
            sql, order = self._insert
            if order is None:  # the driver takes named parameters
                params: Any = [dict(zip(EVENT_COLUMNS, row, strict=True)) for row in rows]
            else:
                params = [tuple(row[i] for i in order) for row in rows]
            with self.engine.begin() as connection:
                connection.exec_driver_sql(sql, params)
        if self._written is not None:
            self._written[tracker.sender_id] = list(tracker.events)
            self._written.move_to_end(tracker.sender_id)
            while len(self._written) > WRITTEN_CACHE_SIZE:
                self._written.popitem(last=False)

    def _compile_insert(self) -> tuple[str, Optional[tuple[int, ...]]]:
        """The events INSERT in the database driver's own syntax, and the order its positional
        parameters take ``EVENT_COLUMNS`` in (None when the driver takes named parameters);
        ``inline``: no RETURNING of ids."""
        compiled = self.SQLEvent.__table__.insert().inline().compile(dialect=self.engine.dialect, column_keys=list(EVENT_COLUMNS))
        order = tuple(EVENT_COLUMNS.index(key) for key in compiled.positiontup) if compiled.positional else None
        return str(compiled), order

    def _compile_latest_session_query(self) -> CompiledQuery:
        """Rasa's latest-session query (``SQLTrackerStore._event_query``), selecting only the
        event data, compiled once into the driver's own SQL."""
        session = self.sessionmaker()
        try:
            query = self._event_query(session, SENDER_MARK, fetch_events_from_all_sessions=False)
            statement = query.with_entities(self.SQLEvent.data).statement
        finally:
            session.close()
        compiled = statement.compile(dialect=self.engine.dialect)
        fixed = {key: value for key, value in compiled.params.items() if value != SENDER_MARK}
        if list(fixed.values()) != [SessionStarted.type_name]:
            raise RuntimeError(f"unexpected parameters in Rasa's latest-session query: {compiled.params}")
        senders = tuple(key for key in compiled.params if key not in fixed)
        order = tuple(compiled.positiontup) if compiled.positional else None
        return CompiledQuery(str(compiled), order, senders, fixed)

    def _read_latest_session(self, sender_id: str) -> Any:
        """What ``SQLTrackerStore._retrieve(sender_id, False)`` returns, from the compiled query."""
        query = self._latest_session
        with self.engine.connect() as connection:
            rows = connection.exec_driver_sql(query.sql, query.arguments(sender_id)).fetchall()
        events = [json.loads(data) for (data,) in rows]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    @staticmethod
    def _row(sender_id: str, event: Any) -> tuple[Any, ...]:
        """The events-table row Rasa's SQLTrackerStore.save writes for ``event``, in ``EVENT_COLUMNS`` order."""
        data = event.as_dict()
        return (
            sender_id,
            event.type_name,
            data.get("timestamp"),
            data.get("parse_data", {}).get("intent", {}).get("name"),
            data.get("name"),
            json.dumps(data),
        )


# -- HTTP: the failing read must abort the turn (stores/http_guard.py answers it with a 503) ---


def _abort_turn(error: Exception) -> None:
    """FailSafeTrackerStore's error hook: re-raise instead of answering from an empty tracker."""
    raise error


def _attach_to_failsafe(app: Any) -> None:
    agent = getattr(app.ctx, "agent", None)
    store = getattr(agent, "tracker_store", None)
    ours = isinstance(store, FailSafeTrackerStore) and isinstance(getattr(store, "_tracker_store", None), ConfiguredTrackerStore)
    # The hook Rasa's constructor takes as `on_tracker_store_error`; Agent builds the
    # wrapper without it, so it is set here (again after a model replacement).
    if ours and store._on_tracker_store_error is not _abort_turn:
        store._on_tracker_store_error = _abort_turn
