"""Several Rasa servers sharing PostgreSQL and Redis: load, a crash, a full restart, a database outage.

Every conversation sends its turns alternately through both Rasa servers
(directly, not through the balancer), so each turn is handled by a process
that did not handle the previous one: whatever a server kept in memory would
show up as a wrong answer. Afterwards the events are read back from
PostgreSQL through Rasa's tracker API and checked turn by turn.
"""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.cluster.conftest import TOKEN
from tests.cluster.driver import Servers, check_conversation, conversations, user_texts
from tests.http_client import Client, new_sender, text_of

pytestmark = pytest.mark.cluster


def run_all(convs, servers: Servers, upto=None) -> None:
    with ThreadPoolExecutor(max_workers=len(convs)) as pool:
        for future in [pool.submit(c.run, servers, upto) for c in convs]:
            future.result()


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def all_ports(cluster) -> list[int]:
    ports = cluster.ports
    return [ports["postgres"], ports["redis"], ports["actions"], ports["balancer"], *ports["rasa"]]


def ensure_running(cluster) -> None:
    """Bring back any Rasa server an earlier test killed."""
    dead = [i for i, stack in enumerate(cluster.rasa) if not any(p.alive() for p in stack.processes)]
    if dead:
        cluster.start_rasa(dead)


def test_balancer_serves_the_page_and_a_conversation(cluster):
    lb = Client(cluster.url, TOKEN)
    status, page = lb.request("GET", "/chat/", token=False)
    assert status == 200 and "Toolkit Advisor" in str(page)
    sender = new_sender("lb")
    assert "Toolkit Advisor" in text_of(lb.say(sender, "hi"))
    lb.say(sender, "no")
    lb.say(sender, "yes")
    assert lb.slots(sender)["recommendation"] == "data_engineer"


def test_lock_tickets_are_unique_across_processes(cluster):
    """Many clients queueing for one conversation in Redis at once never share a ticket number."""
    from stores.lock_store import ConfiguredLockStore

    env = {"LOCK_STORE_URL": cluster.lock_store_url, "LOCK_STORE_PASSWORD": cluster.settings["redis_password"]}
    stores = [ConfiguredLockStore(env=env) for _ in range(8)]
    conversation = new_sender("lock")
    with ThreadPoolExecutor(max_workers=len(stores)) as pool:
        tickets = list(pool.map(lambda store: [store.issue_ticket(conversation, 30) for _ in range(25)], stores))
    numbers = [n for batch in tickets for n in batch]
    assert sorted(numbers) == list(range(len(numbers)))
    lock = stores[0].get_lock(conversation)
    assert [t.number for t in lock.tickets] == list(range(len(numbers)))
    for number in numbers:
        stores[number % len(stores)].cleanup(conversation, number)
    assert stores[0].get_lock(conversation) is None


def test_twenty_concurrent_conversations_alternating_between_instances(cluster):
    ensure_running(cluster)
    servers = Servers(cluster.rasa_urls, TOKEN)
    convs = conversations("load")
    started = time.monotonic()
    run_all(convs, servers)
    elapsed = time.monotonic() - started
    turns = sum(len(c.turns) for c in convs)
    print(f"\n{len(convs)} conversations, {turns} turns in {elapsed:.1f} s")
    for conv in convs:
        assert set(conv.served_by) == {0, 1}, conv.served_by
        # Read back through the server that did not answer the last turn.
        check_conversation(conv, servers.clients[1 - conv.served_by[-1]])


def test_killed_instance_conversations_continue_on_the_other(cluster):
    ensure_running(cluster)
    servers = Servers(cluster.rasa_urls, TOKEN)
    convs = conversations("crash")
    total = sum(len(c.turns) for c in convs)
    errors: list[BaseException] = []

    def drive() -> None:
        try:
            run_all(convs, servers)
        except BaseException as err:  # reported by the main thread
            errors.append(err)

    started = time.monotonic()
    thread = threading.Thread(target=drive)
    thread.start()
    # Mid-load: once about a third of all turns are answered, SIGKILL server 2.
    deadline = time.monotonic() + 120
    while sum(len(c.replies) for c in convs) < total // 3 and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.02)
    in_flight = sum(1 for c in convs if not c.done)
    cluster.kill_rasa(1)
    killed_at = sum(len(c.replies) for c in convs)
    thread.join(timeout=240)
    assert not thread.is_alive(), "conversations did not finish after the crash"
    assert not errors, errors
    assert not port_open(cluster.ports["rasa"][1])
    print(
        f"\nkilled server 2 after {killed_at}/{total} turns with {in_flight} conversations unfinished; "
        f"all finished on server 1 {time.monotonic() - started:.1f} s after the start; "
        f"{sum(c.recovered for c in convs)} turn(s) found stored after the crash"
    )
    survivor = servers.clients[0]
    moved = 0
    for conv in convs:
        check_conversation(conv, survivor)
        if 1 in conv.served_by and conv.served_by[-1] == 0:
            moved += 1
    assert moved >= 10, "most conversations should have been served by server 2 before the crash"


def test_whole_cluster_restart_conversations_continue(cluster):
    ensure_running(cluster)
    servers = Servers(cluster.rasa_urls, TOKEN)
    convs = conversations("restart", count=10)
    run_all(convs, servers, upto=2)  # every script has more than two turns
    before = {c.sender: servers.clients[0].tracker(c.sender) for c in convs}

    started = time.monotonic()
    cluster.stop()
    still_open = [port for port in all_ports(cluster) if port_open(port)]
    assert not still_open, f"ports still open after stopping the cluster: {still_open}"
    cluster.start()
    print(f"\nwhole cluster restarted in {time.monotonic() - started:.1f} s")

    servers = Servers(cluster.rasa_urls, TOKEN)
    for conv in convs:
        tracker = servers.clients[1].tracker(conv.sender)
        assert tracker["events"] == before[conv.sender]["events"]
        assert tracker["slots"]["current_question"] == before[conv.sender]["slots"]["current_question"]
    run_all(convs, servers)
    for conv in convs:
        check_conversation(conv, servers.clients[0])


def test_postgres_outage_gives_a_clear_error_and_the_conversation_resumes(cluster):
    """PostgreSQL stopped mid-conversation: every request gets a quick 503 saying so; nothing is lost."""
    ensure_running(cluster)
    a, b = (Client(url, TOKEN, timeout=30) for url in cluster.rasa_urls)
    lb = Client(cluster.url, TOKEN, timeout=30)
    sender = new_sender("outage")
    a.say(sender, "hi")
    b.say(sender, "no")
    before = a.tracker(sender)
    assert before["slots"]["current_question"] == "data_infrastructure"

    cluster.stop_postgres()
    try:
        for client in (a, b, lb, a):
            started = time.monotonic()
            status, body = client.request("POST", "/webhooks/rest/webhook", {"sender": sender, "message": "no"}, token=False)
            assert time.monotonic() - started < 10
            assert status == 503, (status, body)
            assert body["reason"] == "TrackerStoreUnavailable" and "unavailable" in body["message"]
        status, body = b.request("GET", f"/conversations/{sender}/tracker")
        assert status == 503 and body["reason"] == "TrackerStoreUnavailable"
        status, _ = b.request("GET", f"/conversations/{sender}/tracker", token=False)
        assert status == 401  # authentication is still checked first
        # A new conversation is refused too, rather than started in memory.
        status, _ = a.request("POST", "/webhooks/rest/webhook", {"sender": new_sender("outage"), "message": "hi"}, token=False)
        assert status == 503
    finally:
        cluster.start_postgres()

    after = b.tracker(sender)
    assert after["events"] == before["events"], "the failed turns must leave no trace"
    a.say(sender, "no")  # the message the outage refused, sent again
    b.say(sender, "yes")
    final = a.tracker(sender)
    assert final["events"][: len(before["events"])] == before["events"]
    assert user_texts(final["events"]) == ["hi", "no", "no", "yes"]
    assert final["slots"]["recommendation"] == "fullstack_engineer"


def test_redis_outage_gives_a_clear_error_and_the_conversation_resumes(cluster):
    """Redis (the lock store) stopped: a 503 saying so, nothing written; then the conversation goes on."""
    ensure_running(cluster)
    a, b = (Client(url, TOKEN, timeout=30) for url in cluster.rasa_urls)
    sender = new_sender("redis")
    a.say(sender, "hi")
    before = b.tracker(sender)
    cluster.stop_redis()
    try:
        for client in (a, b):
            started = time.monotonic()
            status, body = client.request("POST", "/webhooks/rest/webhook", {"sender": sender, "message": "yes"}, token=False)
            assert time.monotonic() - started < 15
            assert status == 503 and body["reason"] == "LockStoreUnavailable", (status, body)
    finally:
        cluster.start_redis()
    assert b.tracker(sender)["events"] == before["events"]
    a.say(sender, "yes")
    assert b.slots(sender)["recommendation"] == "ml_engineer"
    # A restart nobody noticed (no request failed meanwhile): the next message still goes through.
    cluster.stop_redis()
    cluster.start_redis()
    for client in (a, b):
        client.say(sender, "why?")
    assert user_texts(b.tracker(sender)["events"]) == ["hi", "yes", "why?", "why?"]
