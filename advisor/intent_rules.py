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
  clue" is unsure, "count me out" is deny - and where the words agree with
  the classifier, the answer takes the rule's confidence. A classifier's "unsure" stays
  unless the message opens with an answer word ("sure", "nope"): the many
  ways of not knowing ("I might, I might not") are where words mislead.

* a message made of nothing but answer words ("count me in", "a hundred
  percent", "certainly", "why not", "difficult to say") is the answer its
  words say.

* a greeting, goodbye or thanks made only of set phrases ("see ya!",
  "thx a lot") is that intent: small talk is formulaic, n-grams of rare
  spellings are not.

* an evaluation of "that" or "this" (the question just asked) naming no
  topic, which the classifier took for out of scope or a request, or for a
  yes or no it was unsure of ("I'd find that draining", "doing that every
  day would make me dread Mondays"), is the answer its words say;
* a message that ends on its answer ("I've gone off it over the years, so
  no"; "at first yes, but now it bores me"), naming no topic, is that answer;
* a yes or no the classifier found in words that are mostly not English
  ("%re4U edO1") is a fallback: n-gram overlap is not an answer.

* a "what if" that names a toolkit and asks what it would take or use ("if
  I moved into data engineering, what tools would I be working with?") is a
  question about that toolkit: the person asks about the work, not about
  how their answers would change;
* a question naming one toolkit, or tools and no toolkit, that states no
  liking ("devops?", "kubernetes and docker, is that a devops thing?", "which
  role uses MLflow?") is a question about the catalogue, whatever the n-grams
  made of it (a comparison, a preference, the list, a "why").

Everything else keeps the classifier's intent.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Optional

import yaml

from advisor.aspects import aspect_of
from advisor.preferences import NO, UNSURE, YES, Reading, one_edit_apart

FORMULAS_FILE = Path(__file__).resolve().parent / "formulas.yml"

GENERIC_ANSWERS = {YES: "affirm", NO: "deny", UNSURE: "unsure"}
# Intents a clear statement of preference may be taken from ("I'd like to be a
# full-stack developer" is not a question about the toolkit; "designing REST
# APIs is what I like" is not a "what if").
OVERRULED_BY_PREFERENCE = frozenset(
    {
        "out_of_scope",
        "nlu_fallback",
        "affirm",
        "deny",
        "unsure",
        "ask_toolkit",
        "what_if",
        "ask_runner_up",
        "ask_next_steps",
        "help",
    }
)
RULE_CONFIDENCE = 0.9
# Intents the classifier gives questions about one toolkit or some tools that
# state no liking ("kubernetes and docker, is that a devops thing?": a
# preference; "which role uses MLflow?": the list; "MLflow and W&B, which role
# uses those?": a "why"). A "why" naming a toolkit stays one ("why devops?").
QUESTIONS_ABOUT_THE_CATALOGUE = frozenset(
    {"share_preference", "greet", "out_of_scope", "nlu_fallback", "list_toolkits", "ask_why", "help", "unsure"}
)
# Words that make a message naming one toolkit a comparison after all ("devops or not?" is not).
COMPARING = frozenset({"compare", "comparison", "vs", "versus", "difference", "differences", "between", "against"})
# What a toolkit question may ask about for a "what if ... ?" to be one (advisor/aspect_cues.yml).
CATALOGUE_ASPECTS_IN_WHAT_IFS = frozenset({"skills", "tools"})
# A message of nothing but answer words ("certainly", "you bet", "why not")
# cannot be a question about the careers or a request: it is an answer.
ANSWER_ONLY_OVERRULES = frozenset(
    {
        "out_of_scope",
        "nlu_fallback",
        "unsure",
        "goodbye",
        "thank",
        "help",
        "greet",
        "ask_why",
        "ask_why_not",
        "ask_runner_up",
        "go_back",
        "start_over",
        "summarise",
        "what_if",
        "share_preference",
    }
)


# What the classifier makes of an evaluation of "that" it has no n-grams for
# ("doing that every day would make me dread Monday mornings": out of scope;
# "I'd find that draining": a "deny" it is unsure of; "that's the kind of work
# I'd happily leave to someone else": a question about the runner-up; "that
# sounds like my next job": next steps; "I'd rather steer well clear of that": a
# "why"; "if that's the job, I'm interested": a "what if" - unless it is one,
# "suppose that sounded great to me"). Questions are never answers here.
REFERRED_ANSWER_OVERRULES = frozenset(
    {
        "out_of_scope",
        "nlu_fallback",
        "affirm",
        "deny",
        "share_preference",
        "ask_runner_up",
        "help",
        "ask_next_steps",
        "what_if",
        "ask_why",
        "ask_why_not",
    }
)


def refers_to_question(reading: Reading) -> bool:
    """A yes or no about "that" / "this" - the question just asked - naming no topic of its own."""
    return (
        reading.stance in (YES, NO)
        and not reading.preferences
        and "refers_back" in reading.signals
        and "question" not in reading.signals
    )


@functools.lru_cache(maxsize=1)
def _formulas_file() -> dict[str, list[str]]:
    """formulas.yml, read once for the small-talk phrases and the hypothetical markers."""
    return yaml.safe_load(FORMULAS_FILE.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _formulas() -> tuple[dict[str, list[tuple[str, ...]]], frozenset[str]]:
    doc = dict(_formulas_file())
    fillers = frozenset(str(w).lower() for w in doc.pop("fillers"))
    doc.pop("hypothetical")
    phrases = {intent: sorted((tuple(_words(str(p))) for p in entries), key=len, reverse=True) for intent, entries in doc.items()}
    return phrases, fillers


def _words(text: str) -> list[str]:
    return re.findall(r"[\w']+|[^\w\s]+", text.lower())


@functools.lru_cache(maxsize=1)
def _hypothetical() -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(_words(str(p))) for p in _formulas_file()["hypothetical"])


def is_hypothetical(text: str) -> bool:
    """ "what if I liked frontend", "suppose I ...": a question about a change, not a statement."""
    words = [w for w in _words(text) if w[0].isalnum()]
    for phrase in _hypothetical():
        for i in range(len(words) - len(phrase) + 1):
            if all(_same_word(w, p) for w, p in zip(words[i : i + len(phrase)], phrase, strict=True)):
                return True
    return False


def _same_word(word: str, expected: str) -> bool:
    """Equal, or one typo apart for long words ("supose" for "suppose")."""
    return word == expected or (len(expected) >= 6 and one_edit_apart(word, expected))


def formula_intent(text: str) -> Optional[str]:
    """greet / goodbye / thank when ``text`` is nothing but that intent's set phrases."""
    phrases, fillers = _formulas()
    words = _words(text)
    found: set[str] = set()
    i = 0
    while i < len(words):
        match = next(
            ((intent, len(p)) for intent, entries in phrases.items() for p in entries if tuple(words[i : i + len(p)]) == p),
            None,
        )
        if match is not None:
            found.add(match[0])
            i += match[1]
        elif words[i] in fillers:
            i += 1
        else:
            return None
    return found.pop() if len(found) == 1 else None


def refine(
    intent: Optional[str], reading: Reading, text: str = "", toolkits_named: int = 0, tools_named: int = 0
) -> Optional[str]:
    """The intent the words call for, or None to keep the classifier's.

    ``toolkits_named`` / ``tools_named``: how many different toolkits and tools
    the message names (``toolkit`` and ``tool`` entities).
    """
    about_catalogue = toolkits_named == 1 or (tools_named > 0 and not toolkits_named)
    hypothetical_what_if = intent == "what_if" and is_hypothetical(text)  # "what if I liked frontend?"
    if intent == "compare_toolkits" and toolkits_named == 1 and not COMPARING.intersection(_words(text)):
        return "ask_toolkit"  # "devops?": one toolkit is nothing to compare
    if (
        intent in QUESTIONS_ABOUT_THE_CATALOGUE
        and about_catalogue
        and "question" in reading.signals
        and not reading.stated
        and not is_hypothetical(text)
        and not (intent == "ask_why" and toolkits_named)
    ):
        return "ask_toolkit"  # "kubernetes and docker, is that a devops thing?", "which role uses MLflow?"
    if (
        intent == "what_if"
        and toolkits_named
        and "question" in reading.signals
        and aspect_of(text) in CATALOGUE_ASPECTS_IN_WHAT_IFS
    ):
        return "ask_toolkit"  # "if I moved into data engineering, what tools would I use?"
    formula = formula_intent(text) if text else None
    if formula is not None and not reading.preferences:
        return formula if formula != intent else None
    states_preference = any(p.explicit and p.value is not None for p in reading.stated)
    if intent in OVERRULED_BY_PREFERENCE and states_preference and not hypothetical_what_if:
        return "share_preference"
    if intent in REFERRED_ANSWER_OVERRULES and refers_to_question(reading) and not hypothetical_what_if:
        return GENERIC_ANSWERS[reading.stance]  # "I'd find that draining": a "no" to the question
    if (
        "concludes" in reading.signals
        and reading.stance in (YES, NO)
        and not reading.stated
        and intent in (REFERRED_ANSWER_OVERRULES | ANSWER_ONLY_OVERRULES)
    ):
        return GENERIC_ANSWERS[reading.stance]  # "I've gone off it over the years, so no"
    if intent in ("affirm", "deny") and reading.stance is None and "unknown_words" in reading.signals:
        return "nlu_fallback"  # "%re4U edO1" is not a "yes", however confident the n-grams
    if intent in ANSWER_ONLY_OVERRULES and "answer_only" in reading.signals and reading.stance in GENERIC_ANSWERS:
        return GENERIC_ANSWERS[reading.stance]
    if not reading.preferences and reading.stance in GENERIC_ANSWERS:
        opens_with_answer = "interjection" in reading.signals and reading.stance != UNSURE
        if intent in ("affirm", "deny") or (intent == "unsure" and opens_with_answer):
            # Where words and n-grams agree ("I'd turn that offer down": a "deny" at 0.34),
            # the answer is as certain as a rule makes it.
            return GENERIC_ANSWERS[reading.stance]
    return None
