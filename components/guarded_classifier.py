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

Those weights are also what is saved: four plain arrays in an ``.npz`` file
(no pickle) instead of Rasa's skops archive of the scikit-learn objects.
Importing skops alone took 1.7 s of a 5 s cold start (it scans scikit-learn
to list the types it trusts); a classifier the weights cannot describe is
still saved and loaded with skops, as Rasa does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.constants import RANKING_LENGTH

logger = logging.getLogger(__name__)

# Plain data types a saved TF-IDF pipeline contains besides scikit-learn's own.
TRUSTED_TYPES = {"scipy.sparse._csr.csr_matrix", "scipy.sparse._dia.dia_matrix"}


@dataclass(frozen=True)
class FittedWeights:
    """All the fast path needs: a multinomial regression after an optional sublinear,
    L2-normalised TF-IDF (``idf`` None without it)."""

    idf: Optional[np.ndarray]
    coef_t: np.ndarray  # features x intents
    intercept: np.ndarray
    classes: np.ndarray

    def save(self, path: Path) -> None:
        idf = self.idf if self.idf is not None else np.empty(0)
        np.savez(path, idf=idf, coef_t=self.coef_t, intercept=self.intercept, classes=self.classes.astype(str))

    @classmethod
    def load(cls, path: Path) -> FittedWeights:
        with np.load(path, allow_pickle=False) as saved:
            idf = saved["idf"]
            return cls(
                idf=idf if idf.size else None,
                coef_t=np.ascontiguousarray(saved["coef_t"]),
                intercept=saved["intercept"],
                classes=saved["classes"].astype(object),
            )


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
        weights = self._weights()
        intents = weights.classes if weights is not None else self._regression().classes_
        for message, row in zip(messages, probas, strict=True):
            ranking = sorted(
                ({"name": name, "confidence": float(p)} for name, p in zip(intents, row, strict=True)),
                key=lambda e: -e["confidence"],
            )
            message.set(INTENT, ranking[0], add_to_output=True)
            if self.config[RANKING_LENGTH] > 0:
                ranking = ranking[: self.config[RANKING_LENGTH]]
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)

    def _create_X(self, messages: List[Message]) -> scipy.sparse.csr_matrix:
        """Rasa's feature matrix - each message's sparse sentence features side by side, then its
        dense ones - built in one step.

        Rasa's version deep-copies and stacks each featurizer's features (the
        sequence features too, then drops them) through ``scipy.sparse.hstack``
        several times per message; the same matrix is assembled here from the
        features' entries directly (tested equal in tests/test_guarded_classifier.py).
        """
        data: List[np.ndarray] = []
        columns: List[np.ndarray] = []
        indptr = [0]
        width: Optional[int] = None
        for message in messages:
            sentence = [f for f in message.features if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE]
            blocks = [f.features for f in sentence if f.is_sparse()] + [f.features for f in sentence if f.is_dense()]
            offset = entries = 0
            for block in blocks:
                row = scipy.sparse.coo_matrix(block)
                if row.shape[0] != 1:
                    return super()._create_X(messages)  # not one row per message: Rasa's general path
                data.append(np.asarray(row.data, dtype=np.float64))
                columns.append(row.col.astype(np.int64) + offset)
                offset += row.shape[1]
                entries += row.nnz
            if width is not None and offset != width:
                return super()._create_X(messages)  # messages of different widths: let Rasa raise
            width = offset
            indptr.append(indptr[-1] + entries)
        X = scipy.sparse.csr_matrix(
            (
                np.concatenate(data) if data else np.empty(0),
                np.concatenate(columns) if columns else np.empty(0, dtype=np.int64),
                np.asarray(indptr, dtype=np.int64),
            ),
            shape=(len(messages), width or 0),
        )
        X.sum_duplicates()
        return X

    def _regression(self) -> Any:
        return self.clf.named_steps["regression"] if hasattr(self.clf, "named_steps") else self.clf

    def probabilities(self, X: Any) -> np.ndarray:
        """``self.clf.predict_proba(X)``, without scikit-learn's per-call validation.

        Worked on the sparse matrix's arrays with numpy: for the one message of a
        turn, each scipy.sparse operation's set-up cost more than its arithmetic.
        """
        weights = self._weights()
        if weights is None:
            return self.clf.predict_proba(X)
        X = scipy.sparse.csr_matrix(X)
        if not X.has_canonical_format:  # repeated columns: add them up first, as scikit-learn's would be
            X = X.copy()
            X.sum_duplicates()
        rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))  # the row of each stored entry
        values = X.data.astype(np.float64)  # a copy: X is the caller's
        if weights.idf is not None:
            np.log(values, out=values)  # sublinear TF: 1 + log(tf), times idf, rows L2-normalised
            values += 1.0
            values *= weights.idf[X.indices]
            norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=X.shape[0]))
            norms[norms == 0.0] = 1.0
            values /= norms[rows]
        scores = np.zeros((X.shape[0], weights.coef_t.shape[1]))
        filled = np.diff(X.indptr) > 0  # rows with entries; an empty row scores the intercept alone
        if values.size:
            # Each row's sum of value x weights over its entries (reduceat: from one row's start to the next's).
            scores[filled] = np.add.reduceat(values[:, None] * weights.coef_t[X.indices], X.indptr[:-1][filled], axis=0)
        scores += weights.intercept
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        return scores

    def _weights(self) -> Optional[FittedWeights]:
        """The fitted weights when the fast path computes exactly what scikit-learn
        would (a multinomial regression after an optional sublinear, L2-normalised
        TF-IDF); None otherwise."""
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
            weights = FittedWeights(
                idf, np.ascontiguousarray(regression.coef_.T), regression.intercept_.copy(), regression.classes_.copy()
            )
        self._cached_weights = weights
        return weights

    def persist(self) -> None:
        """The fitted weights as plain arrays when they describe the classifier, else Rasa's skops file."""
        weights = self._weights()
        if weights is None:
            super().persist()
            return
        with self._model_storage.write_to(self._resource) as model_dir:
            weights.save(model_dir / f"{self._resource.name}.npz")

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> GuardedLogisticRegressionClassifier:
        """The saved weights; or, for a classifier saved with skops, Rasa's loading
        that also trusts the sparse matrices a TF-IDF pipeline stores."""
        component = cls(config, execution_context.node_name, model_storage, resource)
        with model_storage.read_from(resource) as model_dir:
            weights = model_dir / f"{resource.name}.npz"
            if weights.exists():
                component._cached_weights = FittedWeights.load(weights)
                return component
            import skops.io as sio

            path = model_dir / f"{resource.name}.skops"
            unknown = set(sio.get_untrusted_types(file=path))
            if unknown - TRUSTED_TYPES:
                raise ValueError(f"{path} holds untrusted types: {sorted(unknown - TRUSTED_TYPES)}")
            component.clf = sio.load(path, trusted=sorted(unknown))
        return component
