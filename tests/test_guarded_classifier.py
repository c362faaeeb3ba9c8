"""The intent classifier's own arithmetic equals scikit-learn's (plain tests, no servers)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message

from components.guarded_classifier import GuardedLogisticRegressionClassifier

INTENTS = np.array(["affirm", "deny", "greet", "share_preference", "unsure"])


def classifier(tmp_path, **config) -> GuardedLogisticRegressionClassifier:
    full = {**GuardedLogisticRegressionClassifier.get_default_config(), "max_iter": 500, **config}
    context = ExecutionContext(GraphSchema({}), "test")
    return GuardedLogisticRegressionClassifier.create(full, LocalModelStorage(tmp_path), Resource("clf"), context)


def counts(rows: int, seed: int) -> scipy.sparse.csr_matrix:
    """Sparse n-gram counts, like CountVectorsFeaturizer's: mostly zeros, small integers."""
    rng = np.random.default_rng(seed)
    dense = rng.poisson(0.08, size=(rows, 300)).astype(np.float64)
    dense[0, :] = 0.0  # a row with no known n-gram at all
    return scipy.sparse.csr_matrix(dense)


@pytest.mark.parametrize("tfidf", [True, False])
def test_probabilities_equal_scikit_learns(tmp_path, tfidf):
    clf = classifier(tmp_path, tfidf=tfidf, C=100.0)
    X, y = counts(400, seed=1), np.random.default_rng(2).choice(INTENTS, size=400)
    clf.clf.fit(X, y)
    unseen = counts(50, seed=3)
    assert clf._weights() is not None  # the fast path is the one under test
    np.testing.assert_allclose(clf.probabilities(unseen), clf.clf.predict_proba(unseen), rtol=1e-9, atol=1e-12)


def test_process_ranks_intents_as_rasa_does_and_answers_empty_text(tmp_path):
    clf = classifier(tmp_path, tfidf=True, C=100.0)
    X = counts(200, seed=4)
    clf.clf.fit(X, np.random.default_rng(5).choice(INTENTS, size=200))
    row = counts(3, seed=6)[2]
    message = Message({TEXT: "I love data pipelines"})
    message.add_features(Features(row.tocoo(), FEATURE_TYPE_SENTENCE, TEXT, "CountVectorsFeaturizer"))
    empty = Message({TEXT: "   "})
    clf.process([message, empty])
    expected = clf.clf.predict_proba(row)[0]
    ranking = message.get(INTENT_RANKING_KEY)
    assert [r["name"] for r in ranking] == list(clf.clf.classes_[np.argsort(-expected)])
    assert message.get(INTENT)["confidence"] == pytest.approx(expected.max())
    assert empty.get(INTENT) == {"name": "nlu_fallback", "confidence": 1.0}


def load_back(tmp_path, clf: GuardedLogisticRegressionClassifier) -> GuardedLogisticRegressionClassifier:
    """Persist as training does, then load as the Rasa server does, from the same storage."""
    clf.persist()
    context = ExecutionContext(GraphSchema({}), "test")
    return GuardedLogisticRegressionClassifier.load(clf.config, clf._model_storage, Resource("clf"), context)


def test_weights_are_saved_as_plain_arrays_and_load_to_the_same_probabilities(tmp_path):
    clf = classifier(tmp_path, tfidf=True, C=100.0)
    clf.clf.fit(counts(300, seed=7), np.random.default_rng(8).choice(INTENTS, size=300))
    loaded = load_back(tmp_path, clf)
    assert {p.suffix for p in tmp_path.rglob("clf.*")} == {".npz"}  # no skops archive
    unseen = counts(40, seed=9)
    np.testing.assert_allclose(loaded.probabilities(unseen), clf.clf.predict_proba(unseen), rtol=1e-12)
    assert list(loaded._weights().classes) == list(clf.clf.classes_)


def test_a_classifier_the_weights_cannot_describe_is_saved_with_skops(tmp_path):
    clf = classifier(tmp_path, tfidf=False, C=10.0)
    clf.clf.set_params(multi_class="ovr")  # one-vs-rest: not the fast path's softmax
    clf.clf.fit(counts(200, seed=10), np.random.default_rng(11).choice(INTENTS, size=200))
    assert clf._weights() is None
    loaded = load_back(tmp_path, clf)
    assert {p.suffix for p in tmp_path.rglob("clf.*")} == {".skops"}
    unseen = counts(20, seed=12)
    np.testing.assert_allclose(loaded.probabilities(unseen), clf.clf.predict_proba(unseen), rtol=1e-12)


def featurized(text: str, seed: int) -> Message:
    """A message with features as this pipeline's featurizers add them: sequence and sentence,
    from several featurizers, sparse and dense."""
    rng = np.random.default_rng(seed)
    message = Message({TEXT: text})
    for origin, width in (("words", 40), ("chars", 120), ("cues", 9)):
        tokens = scipy.sparse.coo_matrix(rng.poisson(0.1, size=(3, width)).astype(np.float64))
        message.add_features(Features(tokens, "sequence", TEXT, origin))
        message.add_features(Features(scipy.sparse.coo_matrix(tokens.sum(axis=0)), FEATURE_TYPE_SENTENCE, TEXT, origin))
    message.add_features(Features(rng.normal(size=(1, 4)), FEATURE_TYPE_SENTENCE, TEXT, "dense"))
    message.add_features(Features(scipy.sparse.coo_matrix(np.ones((1, 7))), FEATURE_TYPE_SENTENCE, "intent", "other"))
    return message


def test_the_feature_matrix_equals_rasas(tmp_path):
    from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier

    clf = classifier(tmp_path)
    messages = [featurized(f"message {i}", seed=i) for i in range(5)]
    ours, rasas = clf._create_X(messages), LogisticRegressionClassifier._create_X(clf, messages)
    assert ours.shape == rasas.shape == (5, 40 + 120 + 9 + 4)
    np.testing.assert_array_equal(ours.toarray(), rasas.toarray())
