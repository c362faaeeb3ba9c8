"""The one PreferenceReader shared by the NLU components of a loaded model.

``CueFeaturizer`` and ``PreferenceExtractor`` read the same message; sharing
one reader (built on first use, when the spaCy pipeline arrives) means one
compilation of the catalogue's cues and one reading per message, from the
reader's memo.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from rasa.nlu.utils.spacy_utils import SpacyModel

from advisor.catalogue import get_catalogue
from advisor.preferences import PreferenceReader

_READERS: dict[int, PreferenceReader] = {}
PROJECT = Path(__file__).resolve().parent.parent
# What a reading depends on besides the message: the reader's code and cue lists, and the catalogue.
READER_SOURCES = ("advisor/*.py", "advisor/*.yml", "catalogue/*.yml")


@lru_cache(maxsize=1)
def reader_fingerprint() -> str:
    """A digest of everything the reader reads, for Rasa's training cache.

    Rasa reuses a component's training output when the component's class,
    config and inputs are unchanged; the reader's cue lists and code are none
    of those, so without this a changed cue would leave features computed by
    the old reader in the cache, and the next ``make train`` would use them.
    """
    digest = hashlib.sha256()
    for pattern in READER_SOURCES:
        for path in sorted(PROJECT.glob(pattern)):
            digest.update(str(path.relative_to(PROJECT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def reader_for(model: SpacyModel) -> PreferenceReader:
    """The reader over ``model``'s spaCy pipeline (one per pipeline object)."""
    key = id(model.model)
    reader = _READERS.get(key)
    if reader is None:
        _READERS.clear()  # a new model replaces the old one
        reader = _READERS[key] = PreferenceReader(get_catalogue(), model.model)
    return reader
