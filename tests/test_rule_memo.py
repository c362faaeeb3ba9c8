"""The server's memoizing rule policy (ops/rule_memo.py) predicts exactly what Rasa's does.

Both policies are loaded from the trained model; real conversations are held
with the running assistant, and at every point of each conversation where the
server predicted an action, both are asked again - the memoizing one turn by
turn on the same event objects, as the server asks it (so its remembered
states are extended, not rebuilt), and also on a conversation that was cut
back (so they must be rebuilt).
"""

from __future__ import annotations

import copy
import os
import tempfile
from pathlib import Path

import pytest
from rasa.core.policies.rule_policy import RulePolicy as RasaRulePolicy
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker

from ops import rule_memo
from tests.http_client import Client, new_sender

pytestmark = pytest.mark.servers

CONVERSATIONS = [
    ["hello", "no", "no", "yes", "why?", "why not devops?", "what if I liked frontend work?", "thanks"],
    ["hi", "what does a data engineer do?", "yes", "go back", "no", "compare backend and fullstack", "start over", "bye"],
    ["I love shipping NLP models and I hate CSS", "not sure", "who are you?", "yes", "what's the runner-up?", "next steps?"],
    ["asdfgh", "what's the weather like?", "hello", "yes", "summarise my answers", "list the toolkits"],
]


@pytest.fixture(scope="module")
def policies(stack):
    """Rasa's rule policy and the memoizing one, both loaded from the model the server runs."""
    model = Path(
        os.environ.get("TOOLKIT_ADVISOR_MODEL") or Path(__file__).resolve().parent.parent / "models" / "toolkit-advisor.tar.gz"
    )
    with tempfile.TemporaryDirectory() as storage_dir:
        storage, metadata = LocalModelStorage.from_model_archive(Path(storage_dir), model)
        node = next(node for node in metadata.predict_schema.nodes.values() if issubclass(node.uses, RasaRulePolicy))
        context = ExecutionContext(metadata.predict_schema, metadata.model_id)
        config = {**RasaRulePolicy.get_default_config(), **node.config}  # as the graph node merges them
        rasa_policy = RasaRulePolicy.load(config, storage, node.resource, context)
        memo_policy = rule_memo.RulePolicy.load(config, storage, node.resource, context)
        yield metadata.domain, rasa_policy, memo_policy


@pytest.fixture(scope="module")
def conversations(stack):
    """The events of real conversations with the running assistant."""
    bot = Client(stack.url, stack.token)
    held = []
    for texts in CONVERSATIONS:
        sender = new_sender("memo")
        for text in texts:
            bot.say(sender, text)
        held.append((sender, bot.tracker(sender)["events"]))
    return held


def prediction_points(sender, events, domain):
    """The conversation just before each action the server chose, as trackers sharing event objects."""
    full = DialogueStateTracker.from_dict(sender, events, domain.slots)
    shared = list(full.events)
    return [
        DialogueStateTracker.from_events(sender, shared[:i], domain.slots)
        for i, event in enumerate(shared)
        if isinstance(event, ActionExecuted) and i > 0
    ]


def assert_same_predictions(tracker, domain, rasa_policy, memo_policy):
    for use_text in (True, False):
        expected = rasa_policy._prediction_states(tracker, domain, use_text, rule_only_data=rasa_policy._get_rule_only_data())
        got = memo_policy._prediction_states(tracker, domain, use_text, rule_only_data=memo_policy._get_rule_only_data())
        assert got == expected
    expected = rasa_policy.predict_action_probabilities(tracker, domain)
    got = memo_policy.predict_action_probabilities(tracker, domain)
    assert (got.probabilities, got.policy_name, got.events, got.optional_events) == (
        expected.probabilities,
        expected.policy_name,
        expected.events,
        expected.optional_events,
    )
    assert (got.is_end_to_end_prediction, got.is_no_user_prediction) == (
        expected.is_end_to_end_prediction,
        expected.is_no_user_prediction,
    )


def test_every_prediction_matches_rasas_turn_by_turn(policies, conversations):
    domain, rasa_policy, memo_policy = policies
    checked = 0
    for sender, events in conversations:
        for tracker in prediction_points(sender, events, domain):
            assert_same_predictions(tracker, domain, rasa_policy, memo_policy)
            checked += 1
    assert checked > 60
    assert len(memo_policy._histories._by_sender) == len(conversations)  # one remembered replay each


def test_a_conversation_cut_back_is_replayed_from_its_start(policies, conversations):
    domain, rasa_policy, memo_policy = policies
    sender, events = conversations[0]
    points = prediction_points(sender, events, domain)
    for tracker in [points[-1], points[3], points[-2]]:  # later, earlier, later again
        assert_same_predictions(tracker, domain, rasa_policy, memo_policy)
    # The same events as new objects (a conversation read back from the database): rebuilt, same answer.
    fresh = DialogueStateTracker.from_dict(sender, copy.deepcopy(events), domain.slots)
    assert_same_predictions(fresh, domain, rasa_policy, memo_policy)


def test_states_handed_out_are_not_changed_by_later_turns(policies, conversations):
    domain, _, memo_policy = policies
    sender, events = conversations[1]
    points = prediction_points(sender, events, domain)
    early = memo_policy._prediction_states(points[2], domain, False)
    snapshot = copy.deepcopy(early)
    for tracker in points[3:]:
        memo_policy._prediction_states(tracker, domain, True)
    assert early == snapshot


def test_the_server_runs_the_memoizing_policy(stack):
    """``make run`` starts Rasa through ops/rasa_server.py, which installs it."""
    log = (Path(stack.log_dir) / "rasa.log").read_text(encoding="utf-8", errors="replace")
    assert "ops.rule_memo.RulePolicy" in log


def test_rule_matches_are_remembered_by_as_many_states_as_the_longest_rule_reads(policies, conversations):
    """Real state sequences, then each with one earlier state swapped.

    A rule may match the last states of a swapped sequence but not its earlier one.
    """
    domain, rasa_policy, memo_policy = policies
    real = [
        rasa_policy._prediction_states(tracker, domain, False)
        for sender, events in conversations
        for tracker in prediction_points(sender, events, domain)
    ]
    pool = [state for states in real for state in states]
    rules = rasa_policy.lookup["rules"]
    random = __import__("random").Random(7)
    differing = 0
    for states in real:
        variants = [states]
        for back in range(2, min(len(states), 5) + 1):
            swapped = list(states)
            swapped[-back] = random.choice(pool)
            variants.append(swapped)
        for variant in variants:
            expected = rasa_policy._get_possible_keys(rules, variant)
            assert memo_policy._get_possible_keys(rules, variant) == expected
            differing += expected != rasa_policy._get_possible_keys(rules, states)
    assert differing > 10  # the swaps did change which rules match
