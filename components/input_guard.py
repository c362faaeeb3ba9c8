"""Rasa NLU component: the first look at every message, before anything tries to understand it.

Placed first in the pipeline (config.yml), it runs :func:`advisor.input_guard.inspect`
on each message: control characters are removed, text over ``max_chars`` is
cut, messages in another language or made only of symbols are recognised, and
``/intent{...}`` text is neutralised unless it is on the ``allowed_payloads``
list (the payloads the assistant's own buttons send).

Why an NLU component rather than a custom input channel base class:

- **Every channel at once.** REST, the web chat (socket.io), Slack and
  ``rasa shell`` - and any channel added later - all reach the assistant
  through the NLU pipeline; a channel base class would have to be mixed into
  each of them, and Rasa's console channel is not ours to subclass.
- **Before NLU, before RegexMessageHandler.** Rasa parses ``/intent{...}``
  text in its ``RegexMessageHandler``, which runs *after* the whole pipeline on
  the message the pipeline hands on. Whatever this component does to the text
  is therefore what the handler sees: a neutralised payload reaches it as an
  empty text and is never parsed, so ``/restart``, ``/back``,
  ``/session_start`` or ``/affirm{"recommendation": ...}`` typed by a person
  change nothing.
- **Prediction only.** Registered as a non-trainable classifier, it is not
  part of training, so the training data is read exactly as written.

A message that is not a conversational turn (empty, only symbols, too long,
not English, a refused payload) leaves the component with an empty text, so
no later component reads anything into it - no intent, no preference, no
answer - and ``GuardedLogisticRegressionClassifier`` classifies it as
``nlu_fallback``. The reason is stored in the parse data under
``input_guard`` (``{"issue": "too_long", "length": 20000, "limit": 1000}``),
where ``ActionOutOfScope`` finds it and explains it to the person; the raw
text stays in the tracker's ``user`` event as received.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from advisor.input_guard import DEFAULT_MAX_CHARS, GuardConfig, inspect

logger = logging.getLogger(__name__)

GUARD_KEY = "input_guard"  # parse-data key with the issue, read by ActionOutOfScope


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class InputGuard(GraphComponent):
    """Normalises text, caps its length, flags non-turns and neutralises unknown payloads."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"max_chars": DEFAULT_MAX_CHARS, "allowed_payloads": {}, "detect_language": True}

    def __init__(self, config: Dict[str, Any]) -> None:
        self.guard = GuardConfig.from_dict(config)

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> InputGuard:
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            raw = message.get(TEXT)
            inspection = inspect(raw, self.guard)
            if inspection.text != raw:
                message.set(TEXT, inspection.text, add_to_output=True)
            if inspection.issue is not None:
                message.set(GUARD_KEY, inspection.issue.as_dict(), add_to_output=True)
                logger.info("Input guard: %s message (%d characters) not read as a turn.", inspection.issue.kind, len(raw or ""))
        return messages
