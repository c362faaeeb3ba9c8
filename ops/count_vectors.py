"""Rasa's ``CountVectorsFeaturizer`` with one message counted directly instead of through scikit-learn.

For each message the featurizer asks scikit-learn's ``CountVectorizer`` twice
(the tokens one by one, then the whole text) for a sparse count matrix, sorts
it and converts it to COO. For one short message scikit-learn's checks and
matrix conversions cost several times the counting itself, and the project's
pipeline has two such featurizers (words, character n-grams).

:class:`CountVectorsFeaturizer` here is Rasa's with ``_create_features``
computing the same matrices - the vectorizer's own analyzer (lower-casing,
n-grams, stop words), its vocabulary, its ``binary`` and ``dtype`` settings -
and building the COO matrix directly, entries in the order scikit-learn
leaves them (row by row, columns ascending). ``tests/test_count_vectors.py``
compares the two on every training example and more.

The class keeps Rasa's name and is put in place by :func:`install` when the
server starts (``ops/rasa_server.py``); training keeps Rasa's class.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import scipy.sparse
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES
from rasa.nlu.featurizers.sparse_featurizer import count_vectors_featurizer as rasa_module

RasaCountVectorsFeaturizer = rasa_module.CountVectorsFeaturizer


class _Counter:
    """One fitted ``CountVectorizer``'s ``transform``, for a handful of short documents."""

    def __init__(self, vectorizer: Any) -> None:
        self.analyze: Callable[[str], Sequence[str]] = vectorizer.build_analyzer()
        self.vocabulary: Dict[str, int] = vectorizer.vocabulary_
        self.binary = bool(vectorizer.binary)
        self.dtype = vectorizer.dtype

    def matrix(self, documents: Sequence[str]) -> scipy.sparse.coo_matrix:
        rows: List[int] = []
        columns: List[int] = []
        counts: List[int] = []
        vocabulary = self.vocabulary
        for row, document in enumerate(documents):
            found: Dict[int, int] = {}
            for feature in self.analyze(document):
                column = vocabulary.get(feature)
                if column is not None:
                    found[column] = found.get(column, 0) + 1
            for column in sorted(found):
                rows.append(row)
                columns.append(column)
                counts.append(1 if self.binary else found[column])
        shape = (len(documents), len(vocabulary))
        return scipy.sparse.coo_matrix(
            (
                np.asarray(counts, dtype=self.dtype),
                (np.asarray(rows, dtype=np.int32), np.asarray(columns, dtype=np.int32)),
            ),
            shape=shape,
        )


class CountVectorsFeaturizer(RasaCountVectorsFeaturizer):
    """Rasa's ``CountVectorsFeaturizer``, counting one message's features directly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Per attribute: the vectorizer a counter was built from, and the counter.
        self._counters: Dict[str, Tuple[Any, _Counter]] = {}

    def _counter(self, attribute: str) -> Optional[_Counter]:
        counters = self._counters
        vectorizer = self.vectorizers.get(attribute) if self.vectorizers else None
        if vectorizer is None or getattr(vectorizer, "vocabulary_", None) is None:
            return None
        known = counters.get(attribute)
        if known is None or known[0] is not vectorizer:
            known = counters[attribute] = (vectorizer, _Counter(vectorizer))
        return known[1]

    def _create_features(
        self, attribute: str, all_tokens: List[List[str]]
    ) -> Tuple[List[Optional[scipy.sparse.spmatrix]], List[Optional[scipy.sparse.spmatrix]]]:
        counter = self._counter(attribute)
        if counter is None or len(all_tokens) != 1 or not all_tokens[0]:
            return super()._create_features(attribute, all_tokens)
        tokens = all_tokens[0]
        sequence = counter.matrix(tokens)
        sentence = counter.matrix([" ".join(tokens)]) if attribute in DENSE_FEATURIZABLE_ATTRIBUTES else None
        return [sequence], [sentence]


def install() -> type:
    """Make a loaded model use this module's :class:`CountVectorsFeaturizer` (idempotent); returns it.

    A trained model names the featurizer by module path and the graph loader
    looks that name up when it loads the model.
    """
    rasa_module.CountVectorsFeaturizer = CountVectorsFeaturizer  # type: ignore[misc]
    return CountVectorsFeaturizer
