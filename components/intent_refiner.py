"""Rasa NLU component: let precise word lists overrule the intent classifier.

Runs after ``PreferenceExtractor`` (which leaves its reading on the message)
and before ``FallbackClassifier``; the rules themselves are in
:mod:`advisor.intent_rules`.
"""

from __future__ import annotations

from typing import Any, Dict, List, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from advisor.intent_rules import RULE_CONFIDENCE, refine
from components.preference_extractor import READING, PreferenceExtractor


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class IntentRefiner(GraphComponent, IntentClassifier):
    """Overrules the classifier where the preference reader is certain."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [PreferenceExtractor]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> IntentRefiner:
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            reading = message.get(READING)
            intent = message.get(INTENT) or {}
            if reading is None:
                continue
            entities = message.get(ENTITIES) or []
            toolkits = {e.get("value") for e in entities if e.get("entity") == "toolkit"}
            tools = {e.get("value") for e in entities if e.get("entity") == "tool"}
            refined = refine(intent.get("name"), reading, message.get(TEXT) or "", len(toolkits), len(tools))
            if refined is None:
                continue
            confidence = max(RULE_CONFIDENCE, float(intent.get("confidence") or 0.0))
            new_intent = {"name": refined, "confidence": confidence}
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != refined]
            message.set(INTENT, new_intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [new_intent, *ranking], add_to_output=True)
        return messages
