"""The tracker and lock stores chosen by environment variables (plain tests, no servers)."""

from __future__ import annotations

import asyncio

import pytest
from rasa.core.lock_store import InMemoryLockStore, RedisLockStore
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine

from stores import http_guard, lock_store, tracker_store
from stores.lock_store import ConfiguredLockStore, LockStoreConfigError, redis_settings
from stores.tracker_store import (
    PROJECT,
    ConfiguredTrackerStore,
    TrackerStoreConfigError,
    TrackerStoreUnavailable,
    database_url,
)

DOMAIN = Domain.from_dict({"intents": ["greet"], "slots": {"answer": {"type": "text", "mappings": [{"type": "custom"}]}}})


def test_default_is_an_sqlite_file_under_the_project():
    url = database_url({})
    assert url.get_backend_name() == "sqlite"
    assert url.database == str(PROJECT / "var" / "conversations.db")
    assert database_url({"TRACKER_DB": "elsewhere/c.db"}).database == str(PROJECT / "elsewhere" / "c.db")
    assert database_url({"TRACKER_DB": "/srv/c.db"}).database == "/srv/c.db"


def test_postgres_url_and_separate_password():
    url = database_url({"TRACKER_STORE_URL": "postgres://rasa@db:5433/conversations", "TRACKER_STORE_PASSWORD": "s3cr/t"})
    assert url.get_backend_name() == "postgresql"
    assert (url.host, url.port, url.database, url.username, url.password) == ("db", 5433, "conversations", "rasa", "s3cr/t")
    assert "s3cr" not in tracker_store.describe(url)
    # TRACKER_STORE_URL wins over TRACKER_DB.
    assert database_url({"TRACKER_STORE_URL": "postgresql://h/d", "TRACKER_DB": "x.db"}).get_backend_name() == "postgresql"


@pytest.mark.parametrize("bad", ["mysql://h/d", "not a url"])
def test_unsupported_tracker_store_url(bad):
    with pytest.raises(TrackerStoreConfigError):
        database_url({"TRACKER_STORE_URL": bad})


def test_redis_settings_from_url():
    assert redis_settings("redis://:pw@cache:6380/2") == {
        "host": "cache",
        "port": 6380,
        "db": 2,
        "username": None,
        "password": "pw",
        "use_ssl": False,
    }
    settings = redis_settings("rediss://cache", password="from-secret")
    assert (settings["port"], settings["db"], settings["password"], settings["use_ssl"]) == (6379, 1, "from-secret", True)
    with pytest.raises(LockStoreConfigError):
        redis_settings("http://cache:6379")


def test_lock_store_choice():
    assert isinstance(ConfiguredLockStore(env={}).backend, InMemoryLockStore)
    assert isinstance(ConfiguredLockStore(env={"LOCK_STORE_URL": "redis://127.0.0.1:1/1"}).backend, RedisLockStore)


def test_several_sanic_workers_without_redis_refuse_to_start():
    """Rasa lets any custom lock store class run several workers; in-process locks must not."""
    with pytest.raises(LockStoreConfigError, match="LOCK_STORE_URL"):
        ConfiguredLockStore(env={"SANIC_WORKERS": "3"})
    assert lock_store.sanic_workers({"SANIC_WORKERS": "x"}) == 1


def _tracker(sender: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, DOMAIN.slots)
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("hi", {"name": "greet", "confidence": 1.0}))
    tracker.update(SlotSet("answer", "yes"))
    return tracker


@pytest.fixture
def sqlite_store(tmp_path, monkeypatch):
    monkeypatch.delenv("TRACKER_STORE_URL", raising=False)
    monkeypatch.setenv("TRACKER_DB", str(tmp_path / "sub" / "conversations.db"))
    return ConfiguredTrackerStore(domain=DOMAIN)


def test_sqlite_round_trip_survives_a_new_store(sqlite_store, tmp_path):
    asyncio.run(sqlite_store.save(_tracker("alice")))
    assert (tmp_path / "sub" / "conversations.db").exists()
    again = ConfiguredTrackerStore(domain=DOMAIN)  # as after a restart
    tracker = asyncio.run(again.retrieve("alice"))
    assert tracker.get_slot("answer") == "yes"
    assert asyncio.run(again.keys()) == ["alice"]


@pytest.mark.parametrize("cache", ["1", "0"])
def test_turns_append_each_event_once_across_sessions(sqlite_store, monkeypatch, cache):
    """Saves after reads (the remembered count) and saves without one (a query) store every event once, in order.

    With the cache of written events on, every read must equal what a store
    reading the database (a fresh one, cache off) returns.
    """
    monkeypatch.setenv("TRACKER_CACHE", cache)
    sqlite_store = ConfiguredTrackerStore(domain=DOMAIN)
    monkeypatch.setenv("TRACKER_CACHE", "0")
    database = ConfiguredTrackerStore(domain=DOMAIN)

    async def read(sender: str) -> DialogueStateTracker:
        tracker = await sqlite_store.retrieve(sender)
        assert list(tracker.events) == list((await database.retrieve(sender)).events)
        return tracker

    async def turns() -> list[str]:
        await sqlite_store.save(_tracker("dora"))  # new conversation: no read before
        for text in ("yes", "no"):
            tracker = await read("dora")  # read, then save: as every turn does
            tracker.update(UserUttered(text, {"name": "greet", "confidence": 1.0}))
            await sqlite_store.save(tracker)
        tracker = await read("dora")
        tracker.update(SessionStarted())  # a new session: later reads start from here
        tracker.update(UserUttered("again", {"name": "greet", "confidence": 1.0}))
        await sqlite_store.save(tracker)
        tracker = await read("dora")
        tracker.update(UserUttered("last", {"name": "greet", "confidence": 1.0}))
        await sqlite_store.save(tracker)
        await sqlite_store.save(tracker)  # saved twice: nothing new the second time
        full = await sqlite_store.retrieve_full_tracker("dora")
        return [e.text for e in full.events if isinstance(e, UserUttered)]

    assert asyncio.run(turns()) == ["hi", "yes", "no", "again", "last"]


def test_the_latest_session_is_read_as_rasas_sql_store_reads_it(sqlite_store, monkeypatch):
    """The compiled read returns what SQLTrackerStore._retrieve returns: sessions, order, strangers."""
    monkeypatch.setenv("TRACKER_CACHE", "0")
    store = ConfiguredTrackerStore(domain=DOMAIN)

    async def rasas_read(sender: str):
        return await SQLTrackerStore._retrieve(store, sender, fetch_events_from_all_sessions=False)

    async def compare() -> list[int]:
        lengths = []
        for sender, sessions in (("frank", 1), ("gina", 3), ("o'hara; --", 2)):
            tracker = _tracker(sender)
            for session in range(sessions):
                if session:
                    tracker.update(SessionStarted())
                tracker.update(UserUttered(f"turn {session}", {"name": "greet", "confidence": 1.0}))
                await store.save(tracker)
            ours, rasas = await store.retrieve(sender), await rasas_read(sender)
            assert [e.as_dict() for e in ours.events] == [e.as_dict() for e in rasas.events]
            lengths.append(len(ours.events))
        assert await store.retrieve("stranger") is None and await rasas_read("stranger") is None
        return lengths

    assert asyncio.run(compare()) == [4, 2, 2]  # first session whole; later ones from their SessionStarted


def test_a_new_conversation_is_saved_without_counting_its_events_again(sqlite_store, monkeypatch):
    """A first turn creates the conversation (one save), then saves the turn: both writes exact, no count query."""

    def no_count_query(*args, **kwargs):
        raise AssertionError("the stored events were counted again")

    async def first_turn() -> list[str]:
        tracker = await sqlite_store.get_or_create_tracker("erin")  # read (nothing), create, save
        with monkeypatch.context() as patched:
            patched.setattr(sqlite_store, "_additional_events", no_count_query)
            tracker.update(UserUttered("hi", {"name": "greet", "confidence": 1.0}))
            await sqlite_store.save(tracker)
        stored = await ConfiguredTrackerStore(domain=DOMAIN).retrieve_full_tracker("erin")
        return [type(e).__name__ for e in stored.events]

    assert asyncio.run(first_turn()) == ["ActionExecuted", "UserUttered"]


def test_database_errors_abort_the_turn(sqlite_store, tmp_path, monkeypatch):
    """An unreadable database raises TrackerStoreUnavailable, also through Rasa's FailSafeTrackerStore."""
    monkeypatch.setenv("TRACKER_CACHE", "0")  # reading the database, not this process's own writes
    sqlite_store = ConfiguredTrackerStore(domain=DOMAIN)
    asyncio.run(sqlite_store.save(_tracker("bob")))
    sqlite_store.engine = create_engine(f"sqlite:///{tmp_path}/missing-dir/x.db")
    sqlite_store.sessionmaker.configure(bind=sqlite_store.engine)
    with pytest.raises(TrackerStoreUnavailable):
        asyncio.run(sqlite_store.retrieve("bob"))
    # Rasa's wrapper would answer "no such conversation"; with the hook the error goes through.
    wrapped = FailSafeTrackerStore(sqlite_store, on_tracker_store_error=tracker_store._abort_turn)
    with pytest.raises(TrackerStoreUnavailable):
        asyncio.run(wrapped.get_or_create_tracker("bob"))
    with pytest.raises(TrackerStoreUnavailable):
        asyncio.run(wrapped.save(_tracker("bob")))


def test_no_save_after_a_failed_read_in_the_same_request(sqlite_store):
    """A turn built on a conversation that could not be read must not be appended to it later."""

    async def request() -> None:
        http_guard.begin_request()
        http_guard.note_failure(RuntimeError("read failed"), "TrackerStoreUnavailable")
        await sqlite_store.save(_tracker("carol"))

    with pytest.raises(TrackerStoreUnavailable, match="could not be read"):
        asyncio.run(request())
    assert asyncio.run(sqlite_store.retrieve("carol")) is None


def test_a_ticket_that_expires_while_waiting_is_issued_again():
    """Rasa's own loop never wakes when the waiter's ticket expires with the one it waits for."""

    async def wait_for_lock(store) -> bool:
        store.issue_ticket("dana", 0.3)  # held by an instance that died

        async def take() -> None:
            async with store.lock("dana", lock_lifetime=0.3, wait_time_in_seconds=0.5):
                pass

        try:
            await asyncio.wait_for(take(), timeout=3)
            return True
        except asyncio.TimeoutError:
            return False

    assert asyncio.run(wait_for_lock(ConfiguredLockStore(env={})))
    assert not asyncio.run(wait_for_lock(InMemoryLockStore()))  # the defect this class fixes
    store = ConfiguredLockStore(env={})
    asyncio.run(wait_for_lock(store))
    assert store.get_lock("dana") is None  # cleaned up
