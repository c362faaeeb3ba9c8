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

Classifying one message at a time, scikit-learn's input validation cost more
than the arithmetic: the probabilities are computed here with the fitted
weights directly (the same numbers, checked against ``predict_proba`` in
tests/test_guarded_classifier.py), which took a tenth off a turn under load.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.constants import RANKING_LENGTH

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
        # The fast path's copies of the fitted weights: False until first computed
        # (None when the fast path does not apply).
        self._cached_weights: Any = False
        if self.config["tfidf"]:
            from sklearn.feature_extraction.text import TfidfTransformer
            from sklearn.pipeline import Pipeline

            self.clf = Pipeline([("tfidf", TfidfTransformer(sublinear_tf=True)), ("regression", self.clf)])

    def train(self, training_data: TrainingData) -> Resource:
        self._cached_weights = False  # new weights: recompute the fast path's copies
        return super().train(training_data)

    def process(self, messages: List[Message]) -> List[Message]:
        empty = [m for m in messages if not (m.get(TEXT) or "").strip()]
        for message in empty:
            fallback = {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": 1.0}
            message.set(INTENT, fallback, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [fallback], add_to_output=True)
        rest = [m for m in messages if m not in empty]
        if rest:
            self._classify(rest)
        return messages

    def _classify(self, messages: List[Message]) -> None:
        """What Rasa's ``process`` does, with the probabilities from ``probabilities``."""
        probas = self.probabilities(self._create_X(messages))
        intents = self._regression().classes_
        for message, row in zip(messages, probas, strict=True):
            ranking = sorted(
                ({"name": name, "confidence": float(p)} for name, p in zip(intents, row, strict=True)),
                key=lambda e: -e["confidence"],
            )
            message.set(INTENT, ranking[0], add_to_output=True)
            if self.config[RANKING_LENGTH] > 0:
                ranking = ranking[: self.config[RANKING_LENGTH]]
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)

    def _regression(self) -> Any:
        return self.clf.named_steps["regression"] if hasattr(self.clf, "named_steps") else self.clf

    def probabilities(self, X: Any) -> np.ndarray:
        """``self.clf.predict_proba(X)``, without scikit-learn's per-call validation."""
        weights = self._weights()
        if weights is None:
            return self.clf.predict_proba(X)
        idf, coef_t, intercept = weights
        X = scipy.sparse.csr_matrix(X, dtype=np.float64, copy=True)
        if idf is not None:
            np.log(X.data, out=X.data)  # sublinear TF: 1 + log(tf)
            X.data += 1.0
            X = scipy.sparse.csr_matrix(X.multiply(idf))
            norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1))).ravel()
            norms[norms == 0.0] = 1.0
            X = scipy.sparse.csr_matrix(X.multiply(1.0 / norms[:, None]))
        scores = np.asarray(X @ coef_t) + intercept
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        return scores

    def _weights(self) -> Optional[tuple[Optional[np.ndarray], np.ndarray, np.ndarray]]:
        """(idf, coefficients transposed, intercept) when the fast path computes exactly
        what scikit-learn would (a multinomial regression after an optional sublinear,
        L2-normalised TF-IDF); None otherwise."""
        if self._cached_weights is not False:
            return self._cached_weights
        weights = None
        regression = self._regression()
        tfidf = self.clf.named_steps.get("tfidf") if hasattr(self.clf, "named_steps") else None
        multinomial = regression.multi_class == "multinomial" or (
            regression.multi_class == "auto" and len(regression.classes_) > 2 and regression.solver != "liblinear"
        )
        tfidf_supported = tfidf is None or (tfidf.sublinear_tf and tfidf.use_idf and tfidf.norm == "l2")
        if multinomial and tfidf_supported and hasattr(regression, "coef_"):
            idf = np.asarray(tfidf.idf_, dtype=np.float64) if tfidf is not None else None
            weights = (idf, np.ascontiguousarray(regression.coef_.T), regression.intercept_.copy())
        self._cached_weights = weights
        return weights

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
