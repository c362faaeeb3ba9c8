"""Where the word lists overrule the intent classifier.

The classifier sees word and character n-grams; it cannot tell "sure" from
"unsure" by negation, and it has never seen most ways of saying "Postgres
migrations make me want to cry". The preference reader can, precisely, in
two cases, and there its reading decides:

* a clear liking or dislike of a work topic (stated, with an explicit cue)
  is a ``share_preference``, whatever the n-grams suggested (out of scope, a
  generic yes/no, ...);
* a message the classifier took for a plain yes or no (affirm / deny) and
  that names no topic is the answer its words say: "sure" is affirm, "no
  clue" is unsure, "count me out" is deny. A classifier's "unsure" stays: the
  many ways of not knowing ("I might, I might not") are where words mislead.

Everything else keeps the classifier's intent.
"""

from __future__ import annotations

from typing import Optional

from advisor.preferences import NO, UNSURE, YES, Reading

GENERIC_ANSWERS = {YES: "affirm", NO: "deny", UNSURE: "unsure"}
# Intents a clear statement of preference may be taken from.
OVERRULED_BY_PREFERENCE = frozenset({"out_of_scope", "nlu_fallback", "affirm", "deny", "unsure"})
RULE_CONFIDENCE = 0.9


def refine(intent: Optional[str], reading: Reading) -> Optional[str]:
    """The intent the words call for, or None to keep the classifier's."""
    if intent in OVERRULED_BY_PREFERENCE and any(p.explicit and p.value is not None for p in reading.stated):
        return "share_preference"
    if intent in ("affirm", "deny") and not reading.preferences and reading.stance in GENERIC_ANSWERS:
        refined = GENERIC_ANSWERS[reading.stance]
        return refined if refined != intent else None
    return None
