"""Rasa's ``SpacyNLP`` that loads the spaCy pipeline once per process, not once per graph node.

Rasa 3.6 builds two graph nodes from one ``SpacyNLP`` entry in config.yml (one
provides the spaCy model to the tokenizer and extractors, one processes each
message) and each calls ``spacy.load``: the pipeline, with its ~4,000
tokenizer exceptions, is read twice, about half a second of every cold start.
Both nodes only read the loaded pipeline, so here they share one.

The class keeps Rasa's name on purpose: Rasa wires ``SpacyTokenizer``,
``SpacyEntityExtractor`` and this project's spaCy-based components to their
model provider by the provider's class *name* (``model_from="SpacyNLP"`` in
``DefaultV1Recipe``), so a differently named subclass would leave them without
a model.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Optional

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.utils import spacy_utils


def _version(spacy_model_name: str) -> Optional[float]:
    """When a pipeline directory last changed (a rebuilt pipeline is a new one); None for an installed package."""
    meta = Path(spacy_model_name) / "meta.json"
    return meta.stat().st_mtime if meta.is_file() else None


@functools.lru_cache(maxsize=4)
def _load(spacy_model_name: str, version: Optional[float]) -> spacy_utils.SpacyModel:
    return spacy_utils.SpacyNLP.load_model(spacy_model_name)


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MODEL_LOADER, DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER],
    is_trainable=False,
    model_from="SpacyNLP",
)
class SpacyNLP(spacy_utils.SpacyNLP):
    """``SpacyNLP`` with ``spacy.load`` done once per pipeline directory and process."""

    @staticmethod
    def load_model(spacy_model_name: str) -> spacy_utils.SpacyModel:
        return _load(spacy_model_name, _version(spacy_model_name))
