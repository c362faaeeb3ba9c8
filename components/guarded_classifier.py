"""Rasa's LogisticRegressionClassifier: safe on empty messages, TF-IDF weighted, tunable.

Three changes to Rasa 3.6's ``LogisticRegressionClassifier``, each measured
with ``make nlu-report`` (figures in bench/NOTES.md):

* it raises on a message with no features (an empty or whitespace-only text),
  which makes the REST channel swallow the turn and reply with nothing; such
  messages are classified as ``nlu_fallback`` with full confidence instead, so
  the dialogue answers them like any other turn, on every channel;
* raw n-gram counts let long messages and frequent character n-grams dominate;
  with ``tfidf: true`` the features are TF-IDF weighted (sublinear TF, L2
  normalised) before the regression;
* scikit-learn's ``C`` (inverse regularisation strength) and ``class_weight``
  are configurable (Rasa fixes them at 1.0 and "balanced").
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

logger = logging.getLogger(__name__)

# Plain data types a saved TF-IDF pipeline contains besides scikit-learn's own.
TRUSTED_TYPES = {"scipy.sparse._csr.csr_matrix", "scipy.sparse._dia.dia_matrix"}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class GuardedLogisticRegressionClassifier(LogisticRegressionClassifier):
    """Logistic regression intent classifier that never fails on empty text."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), "C": 1.0, "class_weight": "balanced", "tfidf": False}

    def __init__(self, config: Dict[str, Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.clf.set_params(C=float(self.config["C"]), class_weight=self.config["class_weight"])
        if self.config["tfidf"]:
            from sklearn.feature_extraction.text import TfidfTransformer
            from sklearn.pipeline import Pipeline

            self.clf = Pipeline([("tfidf", TfidfTransformer(sublinear_tf=True)), ("regression", self.clf)])

    def process(self, messages: List[Message]) -> List[Message]:
        empty = [m for m in messages if not (m.get(TEXT) or "").strip()]
        for message in empty:
            fallback = {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": 1.0}
            message.set(INTENT, fallback, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [fallback], add_to_output=True)
        rest = [m for m in messages if m not in empty]
        if rest:
            super().process(rest)
        return messages

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> GuardedLogisticRegressionClassifier:
        """Like Rasa's, but also trusts the sparse matrices a TF-IDF pipeline stores."""
        import skops.io as sio

        component = cls(config, execution_context.node_name, model_storage, resource)
        with model_storage.read_from(resource) as model_dir:
            path = model_dir / f"{resource.name}.skops"
            unknown = set(sio.get_untrusted_types(file=path))
            if unknown - TRUSTED_TYPES:
                raise ValueError(f"{path} holds untrusted types: {sorted(unknown - TRUSTED_TYPES)}")
            component.clf = sio.load(path, trusted=sorted(unknown))
        return component
