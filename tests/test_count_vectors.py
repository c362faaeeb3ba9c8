"""The server's count-vector featurizer (ops/count_vectors.py) gives exactly Rasa's features.

Both of the project's count-vector featurizers (words; character n-grams within
word boundaries, 2-4) are trained on the project's NLU data, then every
training example and some text they never saw are featurized both ways.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.utils.io import read_config_file

from ops import count_vectors

PROJECT = Path(__file__).resolve().parent.parent
UNSEEN = ["Kubernetes?!", "ich weiß nicht", "CSS drives me crazy", "yes yes yes", "ÉLAN naïve café", "a"]


def project_featurizer_configs() -> list[dict]:
    pipeline = read_config_file(PROJECT / "config.yml")["pipeline"]
    return [{k: v for k, v in step.items() if k != "name"} for step in pipeline if step["name"] == "CountVectorsFeaturizer"]


@pytest.fixture(scope="module")
def tokenized():
    data = load_data(str(PROJECT / "data" / "nlu"))
    messages = [Message(data={TEXT: text}) for text in UNSEEN] + list(data.training_examples)
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    tokenizer.process(messages)
    return data, messages


@pytest.mark.parametrize("options", project_featurizer_configs(), ids=["words", "char_wb"])
def test_features_equal_rasas_for_every_message(tmp_path, tokenized, options):
    data, messages = tokenized
    config = {**count_vectors.CountVectorsFeaturizer.get_default_config(), **options}
    context = ExecutionContext(GraphSchema({}), "test")
    featurizer = count_vectors.CountVectorsFeaturizer.create(config, LocalModelStorage(tmp_path), Resource("cvf"), context)
    featurizer.train(data)
    rasas = count_vectors.RasaCountVectorsFeaturizer._create_features
    compared = 0
    for message in messages:
        for attribute in featurizer._attributes:
            tokens = featurizer._get_processed_message_tokens_by_attribute(message, attribute)
            ours = featurizer._create_features(attribute, [tokens])
            theirs = rasas(featurizer, attribute, [tokens])
            for mine, expected in zip(ours[0] + ours[1], theirs[0] + theirs[1], strict=True):
                if expected is None:
                    assert mine is None
                    continue
                assert mine.shape == expected.shape and mine.dtype == expected.dtype
                assert np.array_equal(mine.row, expected.row) and np.array_equal(mine.col, expected.col)
                assert np.array_equal(mine.data, expected.data)
                compared += 1
    assert compared >= 2 * len(messages)  # sequence and sentence features of every text
