"""Rasa NLU featurizer: what the preference reader noticed, as features.

Word and character n-grams tell the intent classifier *how* something is
said; they do not know that "microservices make my head hurt" states a
dislike of a work topic. This featurizer adds a handful of binary sentence
features from :class:`advisor.preferences.PreferenceReader` (a topic was
named, a liking or dislike was expressed, a negation, a question, ...), so
statements of preference are told apart from out-of-scope text by meaning,
not only by vocabulary.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import FEATURIZER_CLASS_ALIAS, TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from advisor.preferences import SIGNALS
from components.reader import reader_fingerprint, reader_for


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER,
    is_trainable=False,
    model_from="SpacyNLP",
)
class CueFeaturizer(DenseFeaturizer, GraphComponent):
    """Binary sentence features from the preference reader."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [SpacyNLP, Tokenizer]

    @staticmethod
    def required_packages() -> List[str]:
        return ["spacy"]

    def __init__(self, config: Dict[str, Any], name: str) -> None:
        super().__init__(name, config)

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CueFeaturizer:
        return cls(config, execution_context.node_name)

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        pass

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """The reader's code, cues and catalogue count as inputs (see ``reader_fingerprint``)."""
        return reader_fingerprint()

    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        reader = reader_for(model)
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            signals = reader.read(text).signals
            sentence = np.array([[1.0 if name in signals else 0.0 for name in SIGNALS]])
            tokens = message.get(TOKENS_NAMES[TEXT]) or []
            sequence = np.zeros((max(len(tokens), 1), len(SIGNALS)))
            alias = self._config[FEATURIZER_CLASS_ALIAS]
            message.add_features(Features(sequence, FEATURE_TYPE_SEQUENCE, TEXT, alias))
            message.add_features(Features(sentence, FEATURE_TYPE_SENTENCE, TEXT, alias))
        return messages

    def process_training_data(self, training_data: TrainingData, model: SpacyModel) -> TrainingData:
        self.process(training_data.training_examples, model)
        return training_data
