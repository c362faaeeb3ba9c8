"""Which aspect of a toolkit a question asks about: overview, skills, tools, fit, link to CV.

One intent (``ask_toolkit``) covers every question about a toolkit; the
words pick the aspect. A word list is more dependable here than asking a
classifier to separate "what does a PM need to know" from "what does a PM
use": the answer differs only in which catalogue fields lead.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import yaml

ASPECT_CUES_FILE = Path(__file__).resolve().parent / "aspect_cues.yml"
OVERVIEW = "overview"


@functools.lru_cache(maxsize=1)
def _patterns() -> list[tuple[str, re.Pattern]]:
    cues = yaml.safe_load(ASPECT_CUES_FILE.read_text(encoding="utf-8"))
    return [
        (
            aspect,
            re.compile(
                "|".join(
                    rf"(?<![a-z]){re.escape(w.strip().lower())}" if not w.startswith(" ") else re.escape(w.lower()) for w in words
                )
            ),
        )
        for aspect, words in cues.items()
    ]


def aspect_of(text: str, about_starting_point: bool = False) -> str:
    """The aspect ``text`` asks about; CV words mean "relation to CV" unless the question is about CV itself."""
    low = " " + " ".join(text.lower().split())
    for aspect, pattern in _patterns():
        if aspect == "cv_link" and about_starting_point:
            continue
        if pattern.search(low):
            return aspect
    return OVERVIEW
