"""Where conversations and conversation locks live, chosen by environment variables.

Rasa reads ``${VAR}`` in ``endpoints.yml`` only when the variable is set (it
refuses to start otherwise), so a plain ``type: sql`` entry cannot give a
laptop a default and a cluster an override from the same file. These two
classes, named in ``endpoints.yml``, read the environment themselves with
defaults, so the same project and the same ``endpoints.yml`` run in both
modes (see README, "Conversations that survive restarts"):

- ``stores.tracker_store.ConfiguredTrackerStore``: SQLite file
  (``TRACKER_DB``, default ``var/conversations.db``) or PostgreSQL
  (``TRACKER_STORE_URL``);
- ``stores.lock_store.ConfiguredLockStore``: in-process locks, or Redis
  (``LOCK_STORE_URL``) when several Rasa processes share conversations.

Both answer an outage of their database with an HTTP 503 for the request
(``stores/http_guard.py``) instead of Rasa's silent fallbacks.
"""
