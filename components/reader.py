"""The one PreferenceReader shared by the NLU components of a loaded model.

``CueFeaturizer`` and ``PreferenceExtractor`` read the same message; sharing
one reader (built on first use, when the spaCy pipeline arrives) means one
compilation of the catalogue's cues and one reading per message, from the
reader's memo.
"""

from __future__ import annotations

from rasa.nlu.utils.spacy_utils import SpacyModel

from advisor.catalogue import get_catalogue
from advisor.preferences import PreferenceReader

_READERS: dict[int, PreferenceReader] = {}


def reader_for(model: SpacyModel) -> PreferenceReader:
    """The reader over ``model``'s spaCy pipeline (one per pipeline object)."""
    key = id(model.model)
    reader = _READERS.get(key)
    if reader is None:
        _READERS.clear()  # a new model replaces the old one
        reader = _READERS[key] = PreferenceReader(get_catalogue(), model.model)
    return reader
