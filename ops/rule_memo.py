"""Rasa's ``RulePolicy`` without re-reading the whole conversation three times a turn.

A decision-list assistant's dialogue is rules only, and Rasa's ``RulePolicy``
predicts twice a turn (after the message, after the custom action) and looks
three times (by text, then by intent, then by intent again). Each look
rebuilds the conversation's dialogue states from its first event: a fresh
tracker replays every event and a state is taken before each action - work
that grows with the conversation and that is the same as the previous look's
up to the events added since. Then every rule is tried against those states,
although only the last few states can decide which rules match.

:class:`RulePolicy` here is Rasa's, with two memos and nothing else changed:

- :class:`StateHistories` keeps, per conversation, the replayed tracker and the
  states taken so far, and extends them by the events added since the last
  look. It reuses them only when the events it replayed are, object for object,
  the start of what the tracker now applies (a reverted or restarted
  conversation no longer is, and is replayed from its start as Rasa does);
- the rules that still match a list of states are remembered by the last
  states that the longest rule can look at: a rule of *n* states is decided by
  the last *n* states alone (``RulePolicy._is_rule_applicable``).

The predictions are Rasa's: ``tests/test_rule_memo.py`` compares both policies
state by state and prediction by prediction over whole conversations.

The class keeps Rasa's name (policy names such as ``policy_0_RulePolicy`` and
Rasa's checks for a memoizing policy go by it) and is put in place by
:func:`install` when the server starts (``ops/rasa_server.py``), as the graph
runner is: training, ``rasa test`` and stock ``rasa run`` keep Rasa's class.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any, Dict, FrozenSet, List, Optional, Tuple

from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer, TrackerFeaturizer
from rasa.core.policies import rule_policy as rasa_rule_policy
from rasa.core.policies.policy import SupportedData
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)
RasaRulePolicy = rasa_rule_policy.RulePolicy

CONVERSATIONS_KEPT = 2000  # replayed conversations kept, least recently used dropped first
MATCHES_KEPT = 10_000  # remembered rule matches; all forgotten at once when full


class _History:
    """One conversation replayed up to some event, with the state taken before each action."""

    __slots__ = ("domain", "events", "replay", "states")

    def __init__(self, tracker: DialogueStateTracker, domain: Domain) -> None:
        self.domain = domain
        self.events: List[Event] = []
        self.replay = tracker.init_copy()
        self.states: List[State] = []

    def continues(self, events: List[Event], domain: Domain) -> bool:
        """Whether ``events`` start with exactly the events replayed so far."""
        if domain is not self.domain or len(events) < len(self.events):
            return False
        return all(mine is theirs for mine, theirs in zip(self.events, events[: len(self.events)], strict=True))

    def extend(self, events: List[Event]) -> None:
        """Replay the events after those seen so far (``generate_all_prior_trackers``' steps)."""
        for event in events[len(self.events) :]:
            if isinstance(event, ActionExecuted):
                state = self.domain.get_active_state(self.replay)
                # As the featurizer leaves every state but the last: the intent, not also the text.
                TrackerFeaturizer._remove_user_text_if_intent([[state]])
                self.states.append(state)
            self.replay.update(event)
            self.events.append(event)


class StateHistories:
    """``tracker.past_states(domain)`` per conversation, extended instead of recomputed."""

    def __init__(self, limit: int = CONVERSATIONS_KEPT) -> None:
        self.limit = limit
        self._by_sender: OrderedDict[str, _History] = OrderedDict()

    def past_states(self, tracker: DialogueStateTracker, domain: Domain) -> List[State]:
        """The states ``tracker.past_states(domain)`` gives, as a new list.

        All but the last are shared with later calls, already as the featurizer
        leaves them (``_remove_user_text_if_intent``); callers must not change
        them otherwise. The last is new.
        """
        events = tracker.applied_events()
        history = self._by_sender.get(tracker.sender_id)
        if history is None or not history.continues(events, domain):
            history = _History(tracker, domain)
            self._by_sender[tracker.sender_id] = history
            if len(self._by_sender) > self.limit:
                self._by_sender.popitem(last=False)
        else:
            self._by_sender.move_to_end(tracker.sender_id)
        history.extend(events)
        return [*history.states, domain.get_active_state(history.replay)]


def _frozen(state: State) -> FrozenSet[Any]:
    return DialogueStateTracker.freeze_current_state(state)


class RulePolicy(RasaRulePolicy):
    """Rasa's ``RulePolicy`` with the conversation's states and the rule matches memoized."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._histories = StateHistories()
        self._matches: Dict[Tuple[int, int, Tuple[FrozenSet[Any], ...]], FrozenSet[str]] = {}
        self._depths: Dict[int, Tuple[int, int]] = {}

    @classmethod
    def load(cls, *args: Any, **kwargs: Any) -> RulePolicy:
        """Rasa's trained rule policy, loaded into this class."""
        policy = super().load(*args, **kwargs)
        logger.info("Rules are predicted by %s.%s (Rasa's, with states and matches memoized).", __name__, cls.__name__)
        return policy

    def _prediction_states(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        use_text_for_last_user_input: bool = False,
        rule_only_data: Optional[Dict[str, Any]] = None,
    ) -> List[State]:
        """``MaxHistoryTrackerFeaturizer.prediction_states`` for one tracker, on remembered states.

        The rule policy learns from rules and stories, so the featurizer would
        neither hide rule-only turns nor drop ``action_unlikely_intent`` states;
        what is left of its work is the slicing and the choice between the last
        message's text and intent, done here by the featurizer itself.
        """
        featurizer = self.featurizer
        if not isinstance(featurizer, MaxHistoryTrackerFeaturizer) or self.supported_data() == SupportedData.ML_DATA:
            return super()._prediction_states(tracker, domain, use_text_for_last_user_input, rule_only_data)
        states = featurizer.slice_state_history(self._histories.past_states(tracker, domain), featurizer.max_history)
        featurizer._choose_last_user_input([states], use_text_for_last_user_input)
        return states

    def _rule_depth(self, lookup: Dict[str, str]) -> int:
        """How many of the last states the longest rule in ``lookup`` looks at."""
        known = self._depths.get(id(lookup))
        if known is None or known[0] != len(lookup):
            depth = max((len(self._rule_key_to_state(key)) for key in lookup), default=0)
            known = self._depths[id(lookup)] = (len(lookup), depth)
        return known[1]

    def _get_possible_keys(self, lookup: Dict[str, str], states: List[State]) -> set:
        depth = self._rule_depth(lookup)
        try:
            tail = states[-depth:] if depth else []
            key = (id(lookup), len(lookup), tuple(_frozen(state) for state in tail))
            hash(key)
        except TypeError:  # a state value that cannot be hashed: ask Rasa
            return super()._get_possible_keys(lookup, states)
        found = self._matches.get(key)
        if found is None:
            found = frozenset(super()._get_possible_keys(lookup, states))
            if len(self._matches) >= MATCHES_KEPT:
                self._matches.clear()
            self._matches[key] = found
        return set(found)


def install() -> type:
    """Make a loaded model use this module's :class:`RulePolicy` (idempotent); returns it.

    A trained model names its policy by module path
    (``rasa.core.policies.rule_policy.RulePolicy``) and the graph loader looks
    that name up when it loads the model, so replacing it there reaches the
    server and changes nothing already trained.
    """
    rasa_rule_policy.RulePolicy = RulePolicy  # type: ignore[misc]
    return RulePolicy
