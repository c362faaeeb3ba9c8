"""Read what a person likes and dislikes from free text.

"I love data pipelines but deploying models bores me" holds two answers at
once: a "yes" to ``data_infrastructure`` and a "no" to ``ml_production``. An
intent classifier gives one label per message, so this module reads messages
clause by clause instead:

1. the message is tokenised by the project's spaCy pipeline, whose entity
   ruler marks toolkit and tool names (patterns generated from the catalogue);
   words are compared by lower-case lemma, and an unknown word one typo away
   from a word the reader listens for is read as that word ("kuberentes");
2. stance cues (``stance_cues.yml``) give each clause its own polarity, with
   negation ("I don't enjoy", "neither ... nor");
3. topic cues (each question's ``listen_for``, the aliases of the toolkit it
   leads to, the tools that signal it) are found, a cue of several parts only
   when its parts share a clause;
4. a topical clause with no polarity of its own borrows one: from the
   evaluation that follows it ("ETL? count me out", "Helm charts: hate
   them"), else from its neighbours ("I like ETL and data warehouses");
5. every topic becomes a :class:`Preference`; a topic-less clause with a
   polarity before any topic ("no, I'd rather do interfaces") is the
   message's *stance*, which answers whatever question is pending.

Everything here is plain Python over a spaCy ``Language``; the Rasa component
in ``components/`` only adapts it to Rasa's message format.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

import yaml

from advisor.catalogue import Catalogue

STANCE_CUES_FILE = Path(__file__).resolve().parent / "stance_cues.yml"

YES, NO, UNSURE = "yes", "no", "unsure"
POSITIVE, NEGATIVE, NEUTRAL = "+", "-", "0"

# Tokens that glue words together without carrying meaning ("front-end",
# "CI/CD"): ignored when comparing cues, so hyphens count as spaces.
_GLUE = {"-", "/", "_", "'", '"', "`", "*", "~", "[", "]"}
_REPEATS = re.compile(r"(.)\1{2,}")
_DOUBLES = re.compile(r"(.)\1+")  # "yess" -> "yes", for telling typos from gibberish
_SENTENCE_ENDS = {".", "!", "?", ";"}
READING_CACHE_SIZE = 4096
NEGATION_REACH = 3  # words from a negator to the cue it turns around
CARRIER_GAP = 2  # words that may stand between a negator and the verb carrying it ("never really found")
STANCE_GAP = 4  # words a gapped stance cue ("leave ... behind") may span
LESS_MORE_REACH = 6  # words from "less" to the "more" set against it


@dataclass(frozen=True)
class Preference:
    """One stated answer: ``value`` True (for), False (against), None (unsure)."""

    question_id: str
    value: Optional[bool]
    start: int
    end: int
    said: str
    explicit: bool
    in_question: bool = False  # "what if I liked frontend?": asked about, not stated
    weak: bool = False  # read from a weak cue ("I'd miss coding": product strategy, indirectly)


# What a reading noticed that the intent classifier gets as features
# (components/cue_featurizer.py); Reading.signals also holds answer_only,
# unknown_words, revision and concludes (the message ends on its answer: "...,
# so no", "at first yes, but now it bores me"), which only the rules use, and
# answer_word (a bare answer opening or concluding the message), which the
# dialogue uses.
SIGNALS = (
    "topic",
    "explicit",
    "several_topics",
    "positive",
    "negative",
    "negator",
    "unsure",
    "question",
    "interjection",
    "stance",
)


@dataclass(frozen=True)
class Reading:
    preferences: tuple[Preference, ...] = ()
    stance: Optional[str] = None
    stance_said: str = ""
    signals: frozenset[str] = frozenset()

    @property
    def stated(self) -> tuple[Preference, ...]:
        """Preferences the person states (not the ones they only ask about)."""
        return tuple(p for p in self.preferences if not p.in_question)

    @property
    def hypothetical(self) -> tuple[Preference, ...]:
        """Preferences inside a question ("what if I said yes to data pipelines?")."""
        return tuple(p for p in self.preferences if p.in_question)

    def for_question(self, question_id: str) -> Optional[Preference]:
        for pref in self.stated:
            if pref.question_id == question_id:
                return pref
        return None


@dataclass
class _Token:
    index: int  # position among content tokens (glue removed)
    lemma: str
    start: int
    end: int
    doc_start: int  # spaCy token index, to line up with entity spans
    doc_end: int


@dataclass
class _Clause:
    """A stretch of tokens read with one polarity."""

    first: int
    last: int
    coarse: int
    sentence: int = 0
    flipped: bool = False  # after "rather than", "instead of", ...
    negated: bool = False  # after "nor"
    polarity: Optional[int] = None  # +1 / -1, None when unknown
    own: bool = False  # polarity from the clause's own words, not borrowed
    unsure: bool = False
    question: bool = False
    topical: bool = False
    lent: bool = False  # its polarity was lent to the topic before it
    answered: bool = False  # a question the next clause answers ("ETL? nope")
    contrast: bool = False  # "not Y" after "X,": a negation that only sets Y against X
    resumes: bool = False  # "... and spend my time on Y" after "step away from X": what the person goes on to
    onward: int = 1  # the liking of its words other than a departure, for a clause that resumes after it
    departs: bool = False  # holds a departure ("step away from", "leave ... behind")
    rhetorical: bool = False  # "who doesn't love ...": a statement of liking
    narrows: bool = False  # opens with "just" / "only": what is kept after "not X,"
    returns: bool = False  # "couldn't wait to get back to ...": away from what came before
    bygone: bool = False  # "I used to ...", "at first ...": how the person felt before
    sets_against: bool = False  # "not both" after "one side only,": an alternative set against what came before


@dataclass(frozen=True)
class _Cue:
    question_id: str
    parts: tuple[tuple[str, ...], ...]
    inverted: bool
    weak: bool = False  # yields to any other topic in its clause ("~ml", and every "!" cue)


@dataclass
class _Match:
    cue: _Cue
    tokens: frozenset[int]
    parts: list[tuple[int, int]] = field(default_factory=list)

    @property
    def first(self) -> int:
        return min(self.tokens)

    @property
    def last(self) -> int:
        return max(self.tokens)


def lemma_function(nlp: Any, keep: Iterable[str] = ()):
    """Lower-case lookup lemmatiser shared by cue compilation and reading.

    The lookup table is case-sensitive and has no plurals for jargon ("APIs"),
    so words are lower-cased first and an unknown plural loses its "s". Words
    in ``keep`` stay as they are (the table reads "well" as "good"). Cues and
    messages go through the same function, so they always agree.
    """
    table = _lemma_table(nlp)
    kept = frozenset(keep)

    @functools.lru_cache(maxsize=65536)
    def lemma(word: str) -> str:
        low = word.lower()
        if low in kept:
            return low
        found = table.get(low)
        if found:
            return found
        if len(low) > 3 and low.endswith("s") and not low.endswith("ss") and low[-2].isalpha():
            return low[:-1]
        return low

    return lemma


def _lemma_table(nlp: Any) -> Any:
    try:
        return nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
    except (KeyError, ValueError):
        return {}


def load_stance_cues(path: Path = STANCE_CUES_FILE) -> dict[str, list[str]]:
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    return {key: [str(v) for v in values] for key, values in doc.items()}


def one_edit_apart(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance of exactly one (insert, delete, replace, swap)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


class PreferenceReader:
    """Turns a message into preferences and a stance, using the catalogue's cues."""

    def __init__(self, catalogue: Catalogue, nlp: Any, stance_cues: Optional[dict[str, list[str]]] = None) -> None:
        self._nlp = nlp
        cues = stance_cues or load_stance_cues()
        self._lemma = lemma_function(nlp, cues.get("keep_as_is", ()))
        # "wanna = want to": the spelling, and the words it stands for.
        self._informal = {
            short.strip(): tuple(full.split())
            for short, full in (entry.lower().split(" = ", 1) for entry in cues.get("informal", []))
        }
        self._known = _lemma_table(nlp)
        self._negators = {seq[0] for seq in self._phrases(cues["negators"]) if len(seq) == 1}
        self._carriers = {seq[0] for seq in self._phrases(cues.get("negation_carriers", [])) if len(seq) == 1}
        self._surprise_verbs = {seq[0] for seq in self._phrases(cues.get("surprise_verbs", [])) if len(seq) == 1}
        # A lone negator ("nope" is looked up as "no") is read as negation, so
        # that "no server-side work please" is a "no" rather than a tie.
        stance = [(p, UNSURE) for p in self._phrases(cues["unsure"])]
        stance += [(p, POSITIVE) for p in self._phrases(cues["positive"])]
        stance += [(p, NEGATIVE) for p in self._phrases(cues["negative"]) if not (len(p) == 1 and p[0] in self._negators)]
        # "step away from X and spend my time on Y": against X, and on to Y (see _clauses).
        departures = cues.get("departures", [])
        self._departures = self._phrases(d for d in departures if " ... " not in d)
        # "leave pixels behind and work on text models": a gapped departure (also a negative_gapped cue).
        self._gapped_departures = [tuple(self._lemmas(part) for part in d.split(" ... ", 1)) for d in departures if " ... " in d]
        self._departure_turns = {seq[0] for seq in self._phrases(cues.get("departure_turns", [])) if len(seq) == 1}
        stance += [(p, NEGATIVE) for p in self._departures]
        stance += [(p, NEUTRAL) for p in self._phrases(cues["neutral"])]
        # "leave ... behind": a first part, up to STANCE_GAP words, a second part.
        self._gapped = [
            (self._lemmas(a), self._lemmas(b), kind)
            for kind, key in ((POSITIVE, "positive_gapped"), (NEGATIVE, "negative_gapped"))
            for entry in cues.get(key, [])
            for a, b in [entry.split(" ... ", 1)]
        ]
        # Longest first, whatever the kind: "rather not" beats "rather".
        self._stance_phrases = sorted(stance, key=lambda item: len(item[0]), reverse=True)
        self._clause_breaks = self._phrases(cues["clause_breaks"], keep_glue=True)
        self._list_breaks = self._phrases(cues["list_breaks"], keep_glue=True)
        self._contrast_breaks = self._phrases(cues["contrast_breaks"], keep_glue=True)
        self._negating_breaks = {seq for seq in self._phrases(cues["negating_breaks"], keep_glue=True)}
        self._turning_breaks = {seq for seq in self._phrases(cues.get("turning_breaks", []), keep_glue=True)}
        self._interjections = {seq[0] for seq in self._phrases(cues["interjections"]) if len(seq) == 1}
        self._answer_words = frozenset(self._interjections | self._negators)
        self._rhetorical = self._phrases(cues.get("rhetorical_openers", []))
        self._relative_pronouns = frozenset(cues.get("relative_pronouns", []))
        self._concluding_words = frozenset(self._lemma(w) for w in cues.get("concluding_words", []))
        self._subject_negators = frozenset(cues.get("subject_negators", []))
        self._narrowing_words = frozenset(cues.get("narrowing_words", []))
        self._returns = self._phrases(cues.get("returns", []))
        self._guarded = {
            self._lemma(cue.strip()): frozenset(self._lemma(w) for w in before.split())
            for cue, before in (entry.split(":", 1) for entry in cues.get("guarded_cues", []))
        }
        self._more = self._lemma("more")  # looked up as "much"
        # Compared as typed, not by lemma: "I thought I'd" is bygone, "I think I'd" is not.
        self._bygone = [
            tuple(t.text for t in nlp.make_doc(m.lower()) if t.text not in _GLUE) for m in cues.get("bygone_markers", [])
        ]
        self._together = self._phrases(cues.get("together_words", []))
        self._clause_openers = {seq[0] for seq in self._phrases(cues["clause_openers"]) if len(seq) == 1}
        self._fillers = {seq[0] for seq in self._phrases(cues["fillers"]) if len(seq) == 1}
        self._revision = self._phrases(cues.get("revision", []))
        self._question_words = frozenset(cues.get("question_words", []))
        self._question_auxiliaries = frozenset(cues.get("question_auxiliaries", []))
        self._subject_auxiliaries = frozenset(cues.get("subject_auxiliaries", []))
        self._question_subjects = frozenset(cues.get("question_subjects", []))
        self._first_person = frozenset(cues.get("first_person", []))
        self._refer_back_words = frozenset(self._lemma(w) for w in cues.get("refer_back_words", []))
        self._refer_back_followers = frozenset(self._lemma(w) for w in cues.get("refer_back_followers", []))
        self._topic_cues = self._compile_topics(catalogue)
        self._entity_topics = self._entity_questions(catalogue)
        self._combined = [(q.id, frozenset(q.combines)) for q in catalogue.questions if q.combines]
        # "compare frontend and backend" names toolkits without stating a liking.
        self._short_names = {self._lemmas(n) for t in catalogue.toolkits for n in t.short_names}
        self._normalised: dict[str, str] = {}
        self._vocabulary_set: frozenset[str] = frozenset()
        self._readings: dict[str, Reading] = {}
        self._vocabulary = sorted(
            {w for cue in self._topic_cues for part in cue.parts for w in part if len(w) >= 5}
            | {w for phrase, _ in self._stance_phrases for w in phrase if len(w) >= 5}
        )
        self._vocabulary_set = frozenset(
            {w for cue in self._topic_cues for part in cue.parts for w in part}
            | {w for phrase, _ in self._stance_phrases for w in phrase}
            | set(self._negators)
        )

    # -- compilation -------------------------------------------------------
    def _lemmas(self, text: str, keep_glue: bool = False) -> tuple[str, ...]:
        doc = self._nlp.make_doc(text.lower())
        words = (w for t in doc if keep_glue or t.text not in _GLUE for w in self._informal.get(t.text, (t.text,)))
        return tuple(self._lemma(w) for w in words)

    def _phrases(self, entries: Iterable[str], keep_glue: bool = False) -> list[tuple[str, ...]]:
        phrases = {self._lemmas(entry, keep_glue) for entry in entries}
        phrases.discard(())
        return sorted(phrases, key=len, reverse=True)

    def _compile_topics(self, catalogue: Catalogue) -> list[_Cue]:
        """Cues per question: its listen_for, its toolkit's role names, its tools."""
        raw: list[tuple[str, str]] = []
        for question in catalogue.questions:
            raw += [(question.id, cue) for cue in question.listen_for]
            toolkit = catalogue.toolkit(question.leads_to)
            raw += [(question.id, name) for name in (toolkit.name, *toolkit.aliases)]
        raw += [(tool.signals, name) for tool in catalogue.tools if tool.signals for name in tool.names]
        cues = []
        for question_id, text in raw:
            inverted = text.startswith("!")
            weak = inverted or text.startswith("~")
            parts = tuple(self._lemmas(part) for part in text.lstrip("!~").split(" + "))
            if all(parts):
                cues.append(_Cue(question_id, parts, inverted, weak))
        return cues

    @staticmethod
    def _entity_questions(catalogue: Catalogue) -> dict[tuple[str, str], str]:
        """Entity-ruler hits (label, id) that speak to a question."""
        mapping = {("toolkit", q.leads_to): q.id for q in catalogue.questions}
        mapping.update({("tool", t.id): t.signals for t in catalogue.tools if t.signals})
        return mapping

    def _normalise(self, word: str) -> str:
        """The lemma of ``word``, with a one-typo slip repaired when unambiguous."""
        cached = self._normalised.get(word)
        if cached is None:
            cached = self._normalised[word] = self._repair(word)
        return cached

    def _repair(self, word: str) -> str:
        low = word.lower()
        lemma = self._lemma(low)
        # A known English word is no typo ("stick" is not "stack"), whichever form the table holds.
        if len(low) < 5 or self._is_known(low) or lemma in self._vocabulary or not low.isalpha():
            return lemma
        squeezed = _REPEATS.sub(r"\1", low)
        if squeezed != low:
            return self._lemma(squeezed)
        close = {w for w in self._vocabulary if one_edit_apart(lemma, w) or one_edit_apart(low, w)}
        return close.pop() if len(close) == 1 else lemma

    # -- reading -----------------------------------------------------------
    def read(self, text: str) -> Reading:
        """Preferences and stance expressed in ``text`` (memoised: featurizer and extractor both ask)."""
        cached = self._readings.get(text)
        if cached is None:
            if len(self._readings) >= READING_CACHE_SIZE:
                self._readings.clear()
            cached = self._readings[text] = self._read(text)
        return cached

    def _read(self, text: str) -> Reading:
        doc = self._nlp(text)
        tokens: list[_Token] = []
        for t in doc:
            if t.text in _GLUE:
                continue
            for word in self._informal.get(t.text.lower(), (t.text,)):
                # "wanna" is read as "want to", both words spanning what was typed.
                tokens.append(_Token(len(tokens), self._normalise(word), t.idx, t.idx + len(t.text), t.i, t.i))
        if not tokens:
            return Reading()
        lemmas = [t.lemma for t in tokens]
        spans = self._stance_spans(lemmas)
        consumed = {i for (first, last, _) in spans for i in range(first, last + 1)}
        departures = self._departure_starts(lemmas)
        clauses = self._clauses(lemmas, consumed, departures)
        words = [text[t.start : t.end].lower() for t in tokens]
        self._mark_clauses(clauses, lemmas, words)
        self._mark_unpunctuated_questions(clauses, words)
        matches = self._topic_matches(lemmas, clauses) + self._entity_matches(doc, tokens)
        # A topic word inside an idiom is no topic ("not my style" is not about CSS).
        idioms = {i for (first, last, kind) in spans if kind != NEUTRAL and last > first for i in range(first, last + 1)}
        matches = [m for m in matches if not m.tokens <= idioms]
        # ... and a stance word inside a topic's name is no stance ("pixel perfect", "look good").
        named = [(a, b) for m in matches for a, b in m.parts if b > a]
        spans = [s for s in spans if not any(a <= s[0] and s[1] <= b and s[1] - s[0] < b - a for a, b in named)]
        self._own_polarity(clauses, lemmas, words, spans, consumed, departures)
        self._weigh_comparisons(clauses)
        self._settle_bygones(clauses)
        for match in matches:
            clause = self._clause_of(clauses, match.first)
            if clause is not None:
                clause.topical = True
        self._borrow_polarity(clauses)
        matches = self._drop_weak(self._drop_contained(self._drop_split(matches, clauses)), clauses)
        matches = self._combine(matches, clauses, lemmas)
        reading = self._reading(text, tokens, clauses, matches)
        signals = self._signals(reading, lemmas, spans, clauses) | reading.signals
        return Reading(reading.preferences, reading.stance, reading.stance_said, signals)

    def _signals(self, reading: Reading, lemmas: Sequence[str], spans, clauses: Sequence[_Clause]) -> frozenset[str]:
        kinds = {kind for _, _, kind in spans}
        covered = {i for first, last, kind in spans if kind != NEUTRAL for i in range(first, last + 1)}
        answer_only = bool(covered) and all(
            i in covered or lemma in self._fillers or lemma in self._negators or not lemma.isalnum()
            for i, lemma in enumerate(lemmas)
        )
        found = {
            "topic": bool(reading.stated),
            "explicit": any(p.explicit for p in reading.stated),
            "several_topics": len(reading.stated) > 1,
            "positive": POSITIVE in kinds,
            "negative": NEGATIVE in kinds,
            "negator": any(lemma in self._negators for lemma in lemmas),
            "unsure": UNSURE in kinds,
            "question": any(c.question for c in clauses) or lemmas[-1] == "?",
            "interjection": lemmas[0] in self._interjections,
            "stance": reading.stance is not None,
            "answer_only": answer_only and not reading.preferences,
            "unknown_words": self._mostly_unknown(lemmas),
            "revision": _contains_any(lemmas, self._revision),
            "refers_back": self._refers_back(lemmas, covered),
        }
        return frozenset(name for name, on in found.items() if on)

    def _refers_back(self, lemmas: Sequence[str], covered: set[int]) -> bool:
        """ "That" / "this" standing for the question just asked ("I'd find that draining", "doing
        that every day", "that kind of work"), told from "that song" by the word that follows."""
        for i, lemma in enumerate(lemmas):
            if lemma not in self._refer_back_words:
                continue
            following = lemmas[i + 1] if i + 1 < len(lemmas) else None
            if following is None or not following[0].isalnum() or following in self._refer_back_followers or i + 1 in covered:
                return True
        return False

    def _mostly_unknown(self, lemmas: Sequence[str]) -> bool:
        """Most words are in neither the English lemma table nor the cues ("%re4U edO1")."""
        words = [w for w in lemmas if any(ch.isalpha() for ch in w)]
        known = sum(1 for w in words if self._is_known(w) or self._is_known(_DOUBLES.sub(r"\1", w)))
        return bool(words) and known * 2 < len(words)

    def _is_known(self, word: str) -> bool:
        return word in self._known or word in self._vocabulary_set or bool(self._known.get(word + "s"))

    def _stance_spans(self, lemmas: Sequence[str]) -> list[tuple[int, int, str]]:
        """(first, last, kind) of every stance cue: gapped ones first, then longest first, no overlaps.

        Contrasts of several words stay free for the clause splitter: "rather"
        in "exhausting rather than exciting" is no liking.
        """
        taken: set[int] = {
            i
            for phrase in self._contrast_breaks
            if len(phrase) > 1
            for first in _find(lemmas, phrase)
            for i in range(first, first + len(phrase))
        }
        spans = []
        for first_part, second_part, kind in self._gapped:
            for first in _find(lemmas, first_part):
                start = first + len(first_part)
                hit = _gapped_tail(lemmas, start, second_part)
                if hit is None:
                    continue
                head = list(range(first, start))
                tail = list(range(hit, hit + len(second_part)))
                if taken.intersection(head + tail):
                    continue
                taken.update(head + tail)
                # The two parts read as one cue; the words between stay topics.
                spans.append((head[0], head[-1], kind))
                spans.append((tail[0], tail[-1], NEUTRAL))
        for phrase, kind in self._stance_phrases:
            guard = self._guarded.get(phrase[0]) if len(phrase) == 1 else None
            for first in _find(lemmas, phrase):
                if guard is not None and (first == 0 or lemmas[first - 1] not in guard):
                    continue  # "putting models into production" likes nothing
                rng = range(first, first + len(phrase))
                if not taken.intersection(rng):
                    taken.update(rng)
                    spans.append((first, first + len(phrase) - 1, kind))
        spans.sort(key=lambda s: s[0])
        return spans

    def _clauses(self, lemmas: Sequence[str], consumed: set[int], departures: set[int]) -> list[_Clause]:
        clauses: list[_Clause] = []
        coarse = sentence = 0
        start = 0
        flip_next = negate_next = resume_next = departed = False
        question_from = 0  # the first clause a question mark can reach
        i = 0
        while i < len(lemmas):
            departed = departed or i in departures
            if i == 1 and lemmas[0] in self._interjections and lemmas[1] in self._clause_openers and not {0, 1} <= consumed:
                # "no I'd rather do frontend": the answer word is a clause of its own.
                clauses.append(_Clause(0, 0, coarse, sentence))
                coarse += 1
                start = 1
            brk = None
            if i not in consumed:
                for kind, phrases in (
                    ("contrast", self._contrast_breaks),
                    ("clause", self._clause_breaks),
                    ("list", self._list_breaks),
                ):
                    length = _match_at(lemmas, i, phrases)
                    if length and kind == "contrast" and i == start and lemmas[i] == "over":
                        length = 0  # "over the years I've ...": nothing before it to set against
                    if length:
                        brk = (kind, length)
                        break
                if brk is None:
                    brk = self._implicit_break(lemmas, start, i, departed)
            if brk is None:
                i += 1
                continue
            kind, length = brk
            if i > start:
                clauses.append(
                    _Clause(start, i - 1, coarse, sentence, flipped=flip_next, negated=negate_next, resumes=resume_next)
                )
            if lemmas[i] == "?":
                # A question mark makes a question of its sentence - from its last "but"
                # on: "pipelines are my jam, but deploying models? nah" states the first.
                for clause in clauses[question_from:]:
                    clause.question = clause.question or clause.sentence == sentence
            if tuple(lemmas[i : i + length]) in self._turning_breaks:
                question_from = len(clauses)
            if kind != "list":
                coarse += 1
            if lemmas[i] in _SENTENCE_ENDS:
                sentence += 1
            if kind != "list":
                # After "than" every item of the list is on the other side: "backend
                # rather than both the front end and the back end".
                flip_next = kind == "contrast"
            negate_next = tuple(lemmas[i : i + length]) in self._negating_breaks
            # "step away from the keyboard and spend my time on ...": the "and" turns to
            # what the person wants; "move away from CSS and JavaScript" only lists.
            after = lemmas[i + length] if i + length < len(lemmas) else None
            resume_next = kind == "list" and departed and after in self._departure_turns
            if kind != "list" or resume_next:
                departed = False
            i += length
            start = i
        if start < len(lemmas):
            clauses.append(
                _Clause(start, len(lemmas) - 1, coarse, sentence, flipped=flip_next, negated=negate_next, resumes=resume_next)
            )
        return clauses

    def _mark_clauses(self, clauses: Sequence[_Clause], lemmas: Sequence[str], words: Sequence[str]) -> None:
        """What each clause's words make of it: rhetorical, narrowing, a return, bygone."""
        for index, clause in enumerate(clauses):
            clause.rhetorical = bool(_match_at(lemmas, clause.first, self._rhetorical))
            clause.narrows = lemmas[clause.first] in self._narrowing_words
            clause.returns = _contains_any(lemmas[clause.first : clause.last + 1], self._returns)
            # "at first juggling front end and back end felt overwhelming": the whole list.
            previous = clauses[index - 1] if index else None
            clause.bygone = _contains_any(words[clause.first : clause.last + 1], self._bygone) or (
                previous is not None and previous.bygone and previous.coarse == clause.coarse
            )

    def _implicit_break(self, lemmas: Sequence[str], start: int, i: int, departed: bool) -> Optional[tuple[str, int]]:
        """Breaks that only a word before them makes.

        "stop coding to become a PM": after a departure, "to <verb>" turns to what
        the person goes on to, as "and <verb>" does; "less coding, more strategy":
        "more" after "less" sets the two against each other.
        """
        after = lemmas[i + 1] if i + 1 < len(lemmas) else None
        if departed and i > start and lemmas[i] == "to" and after in self._departure_turns:
            return ("list", 1)
        if lemmas[i] == self._more and "less" in lemmas[max(0, i - LESS_MORE_REACH) : i]:
            return ("contrast", 1)  # also "less meetings, more code", across the comma
        return None

    def _departure_starts(self, lemmas: Sequence[str]) -> set[int]:
        """Where a departure ("step away from", "leave ... behind") starts."""
        starts = {first for phrase in self._departures for first in _find(lemmas, phrase)}
        for head, tail in self._gapped_departures:
            starts.update(first for first in _find(lemmas, head) if _gapped_tail(lemmas, first + len(head), tail) is not None)
        return starts

    def _mark_unpunctuated_questions(self, clauses: list[_Clause], words: Sequence[str]) -> None:
        """Mark clauses phrased as questions, with or without a question mark.

        People type "is ML engineering a good fit for me" or "who would enjoy
        data engineering" without a "?"; read as statements, those would record
        a "yes" the person never gave. A question opening a clause makes a
        question of the rest of its sentence, as a question mark does.
        """
        for index, clause in enumerate(clauses):
            if clause.question or not self._opens_question(words[clause.first : clause.last + 1]):
                continue
            if index > 0 and words[clause.first - 1] == "so":
                continue  # "frontend bores me and so does backend": "backend too", no question
            for later in clauses[index:]:
                if later.sentence == clause.sentence:
                    later.question = True
        for clause in clauses:
            # "who doesn't love a clean REST API?" asks nothing, with or without its "?".
            clause.question = clause.question and not clause.rhetorical

    def _opens_question(self, words: Sequence[str]) -> bool:
        # Contractions come apart in the tokenizer ("isn't" -> "is" + "n't"):
        # glue them back so the word lists can name them whole.
        joined: list[str] = []
        for word in words:
            if joined and word in ("n't", "'s", "'re", "'m", "'d", "'ll", "'ve"):
                joined[-1] += word
            else:
                joined.append(word)
        if not joined:
            return False
        head, rest = joined[0], joined[1:]
        if head in self._question_words or any(head == w + "'s" for w in self._question_words):
            # "what I enjoy is APIs", "what excites me is data", "when I picture doing
            # that": statements ("when do I ...", "what would I ..." still ask).
            if head == "when":
                return not (rest and rest[0] in self._first_person)
            return not (head == "what" and self._first_person.intersection(rest[:4]))
        if head in self._question_auxiliaries:
            return True
        return head in self._subject_auxiliaries and bool(rest) and rest[0] in self._question_subjects

    def _own_polarity(
        self,
        clauses: list[_Clause],
        lemmas: Sequence[str],
        words: Sequence[str],
        spans,
        consumed: set[int],
        departures: set[int],
    ) -> None:
        """Polarity from each clause's own words; on a tie the last cue wins ("I'd rather avoid").

        In a clause with a departure, the cues before it tell how the person feels
        about leaving: "X is exactly what I want to leave behind" is against X, "I'd
        hate to step away from coding" for it.
        """
        starts = {s[0]: s for s in spans}
        for clause in clauses:
            score = 0
            last = 0
            onward = 0  # the score without departures ("glad to" in "glad to step away from")
            leaving, leaving_last, leaving_cues = 0, 0, 0  # the cues before the first departure
            negations = 1 if clause.negated else 0
            rhetorical_end = clause.first + (_match_at(lemmas, clause.first, self._rhetorical) if clause.rhetorical else 0)
            negators_at: list[int] = []
            carried: list[int] = []
            for i in range(clause.first, clause.last + 1):
                span = starts.get(i)
                if span is not None:
                    kind = span[2]
                    if kind == UNSURE:
                        # "a model that customers depend on" describes it: no doubt of the person's.
                        clause.unsure = clause.unsure or not self._after_relative_pronoun(lemmas, clause, i, reach=3)
                    elif kind in (POSITIVE, NEGATIVE):
                        value = 1 if kind == POSITIVE else -1
                        # A negator reaches a cue a few words on ("don't really
                        # like"), not across the clause ("without writing code is
                        # what I want").
                        near = (
                            sum(1 for n in negators_at if i - n <= NEGATION_REACH) + len(carried) + (1 if clause.negated else 0)
                        )
                        last = -value if near % 2 else value
                        score += last
                        if i in departures:
                            clause.departs = True
                        else:
                            onward += last
                            if not clause.departs:
                                leaving, leaving_last, leaving_cues = leaving + last, last, leaving_cues + 1
                elif i not in consumed and lemmas[i] in self._negators and i >= rhetorical_end:
                    # "that never falls over", "nobody sees" describe a thing: no "no" without a cue.
                    if not (
                        self._after_relative_pronoun(lemmas, clause, i) or self._stands_for_subject(lemmas, words, clause, i)
                    ):
                        negations += 1
                    carrier = self._carrier_after(lemmas, i, clause.last)
                    if carrier is None:
                        negators_at.append(i)
                    elif not self._tells_surprise(lemmas, words, i, carrier):
                        # "I don't think I'd ever enjoy", "can't see myself getting
                        # excited": carried by the verb, the negation reaches the
                        # end of the clause.
                        carried.append(i)
                    # else "I never thought I'd love CSS": surprise, the cue stands as it is.
            clause.onward = -1 if onward < 0 else 1
            if clause.unsure:
                continue
            if clause.departs and leaving_cues:
                clause.polarity = -((1 if leaving > 0 else -1) if leaving else leaving_last)
            elif score or last:
                clause.polarity = (1 if score > 0 else -1) if score else last
            elif negations:
                clause.polarity = -1
            clause.own = clause.polarity is not None
            clause.contrast = not score and not last and bool(negations) and lemmas[clause.first] in self._negators
            # "not both", "not the backend": a negated alternative, not an evaluation ("never", "not really").
            clause.sets_against = clause.contrast and any(
                w[:1].isalnum() and w not in self._negators and w not in self._fillers
                for w in lemmas[clause.first : clause.last + 1]
            )

    def _after_relative_pronoun(self, lemmas: Sequence[str], clause: _Clause, word: int, reach: int = 2) -> bool:
        """A word opening a relative clause ("a schema that (simply) never falls over")."""
        for back in range(1, reach + 1):
            at = word - back
            if at > clause.first and lemmas[at] in self._relative_pronouns:
                return True
        return False

    def _stands_for_subject(self, lemmas: Sequence[str], words: Sequence[str], clause: _Clause, negator: int) -> bool:
        """A negator that is the subject of a verb in the third person ("the logic nobody sees")."""
        after = negator + 1
        return (
            lemmas[negator] in self._subject_negators
            and after <= clause.last
            and words[after] != lemmas[after]
            and words[after].endswith("s")
        )

    @staticmethod
    def _weigh_comparisons(clauses: list[_Clause]) -> None:
        """ "I'd rather A than B": B is liked less than A, whatever its own words say.

        "I'd rather move away from machine learning than spend my days deploying
        models" is against both; "I'd miss writing code far too much to move into a
        roadmap role" against the role. The liking of A is that of its words other
        than a departure (the wish to leave, in the first example). A B with no
        earlier clause to weigh against borrows a polarity later, flipped.
        """
        for index, clause in enumerate(clauses):
            if not clause.flipped or clause.unsure or clause.question:
                continue
            before = next(
                (
                    c
                    for c in reversed(clauses[:index])
                    if c.sentence == clause.sentence and c.own and not c.unsure and not c.question and not c.flipped
                ),
                None,
            )
            if before is not None and before.polarity is not None:
                clause.polarity = -(before.onward if before.departs else before.polarity)

    @staticmethod
    def _settle_bygones(clauses: list[_Clause]) -> None:
        """What the person felt before yields to how things stand now.

        "I used to think shipping models was someone else's job, but these days it
        is what I enjoy most", "I thought I'd love pipelines until I maintained them
        for a year - never again", "at first I wasn't sold, but now I really enjoy
        it": a clause holding a bygone marker takes the polarity of the next clause
        with a polarity of its own, and gives none (no stance, nothing to borrow).
        With nothing after it, it keeps its own.
        """
        for index, clause in enumerate(clauses):
            if not clause.bygone:
                continue
            now = next((c for c in clauses[index + 1 :] if c.own and not c.bygone and not c.question and not c.unsure), None)
            if now is not None:
                clause.polarity, clause.own = now.polarity, False

    def _tells_surprise(self, lemmas: Sequence[str], words: Sequence[str], negator: int, carrier: int) -> bool:
        """A verb of expecting in the past after the negator: "never thought", "didn't expect"."""
        if lemmas[carrier] not in self._surprise_verbs:
            return False
        word = words[carrier]
        inflected_past = word != lemmas[carrier] and not word.endswith(("ing", "s"))
        return inflected_past or (negator > 0 and words[negator - 1] in ("did", "had"))

    def _carrier_after(self, lemmas: Sequence[str], negator: int, last: int) -> Optional[int]:
        """The verb of thinking, seeing or saying that closely follows a negator (``negation_carriers``), if any."""
        for index in range(negator + 1, min(last, negator + CARRIER_GAP + 1) + 1):
            if lemmas[index] in self._carriers:
                return index
        return None

    def _borrow_polarity(self, clauses: list[_Clause]) -> None:
        """Give topical clauses without a polarity of their own one from context.

        First, evaluations that follow a topic lend it their polarity, and to
        the cue-less items listed with it ("CSS and pixel-pushing, not so much";
        "ETL? count me out", where the answer also turns a question's own
        leaning around). Then the rest borrow from the nearest clause with a
        polarity in the same sentence - earlier first, else later; from "not
        Y" in "X, not Y" the opposite - and after "than" / "instead of" the
        polarity flips.
        """
        for index, clause in enumerate(clauses):
            following = clauses[index + 1] if index + 1 < len(clauses) else None
            if not (clause.topical and following is not None and following.own and not following.topical):
                continue
            if clause.question:
                clause.polarity = (clause.polarity if clause.own else 1) * (following.polarity or 1)
                clause.answered = True
            elif not clause.own and not clause.unsure:
                # "I stood in as product owner and couldn't wait to get back to engineering": against
                # it; "one side only, not both": "not both" sets an alternative against it.
                against = following.returns or following.sets_against
                clause.polarity = -following.polarity if against and following.polarity else following.polarity
            else:
                continue
            following.lent = True
            for item in clauses[:index]:
                if item.coarse == clause.coarse and not item.own and not item.unsure and item.polarity is None:
                    item.polarity = clause.polarity
        own = [c.polarity if c.own else None for c in clauses]
        for index, clause in enumerate(clauses):
            if clause.own or clause.unsure or clause.polarity is not None:
                continue
            if clause.resumes and index:
                # What the person goes on to after leaving something behind: the liking of
                # the words around the departure, lent to the items listed after it too.
                clause.polarity = own[index] = clauses[index - 1].onward
                continue
            same = [j for j in range(len(clauses)) if clauses[j].sentence == clause.sentence]
            earlier = next((j for j in reversed(same) if j < index and own[j] is not None and not clauses[j].question), None)
            borrowed = None if earlier is None else own[earlier]
            if earlier is not None and clauses[earlier].contrast and clause.narrows:
                borrowed = -own[earlier]  # "not the whole stack, just APIs": for what "just" keeps
            if borrowed is None:
                later = next((j for j in same if j > index and own[j] is not None), None)
                if later is not None:
                    borrowed = -own[later] if clauses[later].contrast or clauses[later].returns else own[later]
            if borrowed is not None:
                clause.polarity = borrowed
            if clause.flipped:
                clause.polarity = -(clause.polarity or 1)

    def _topic_matches(self, lemmas: Sequence[str], clauses: Sequence[_Clause]) -> list[_Match]:
        matches = []
        for coarse in sorted({c.coarse for c in clauses}):
            members = [c for c in clauses if c.coarse == coarse]
            lo, hi = members[0].first, members[-1].last
            window = lemmas[lo : hi + 1]
            present = set(window)
            for cue in self._topic_cues:
                if not all(part[0] in present for part in cue.parts):
                    continue
                found = []
                for part in cue.parts:
                    hit = next(iter(_find(window, part)), None)
                    if hit is None:
                        break
                    found.append((lo + hit, lo + hit + len(part) - 1))
                else:
                    idx = frozenset(i for a, b in found for i in range(a, b + 1))
                    matches.append(_Match(cue, idx, found))
        return matches

    def _entity_matches(self, doc: Any, tokens: Sequence[_Token]) -> list[_Match]:
        """Toolkit and tool names the entity ruler found (case-aware: "Go" but not "go back")."""
        matches = []
        for ent in doc.ents:
            question_id = self._entity_topics.get((ent.label_, ent.ent_id_))
            if question_id is None or self._lemmas(ent.text) in self._short_names:
                continue
            idx = frozenset(t.index for t in tokens if ent.start <= t.doc_start < ent.end)
            if idx:
                cue = _Cue(question_id, (self._lemmas(ent.text),), False)
                matches.append(_Match(cue, idx, [(min(idx), max(idx))]))
        return matches

    @staticmethod
    def _clause_of(clauses: Sequence[_Clause], token: int) -> Optional[_Clause]:
        for clause in clauses:
            if clause.first <= token <= clause.last:
                return clause
        return None

    def _drop_split(self, matches: list[_Match], clauses: Sequence[_Clause]) -> list[_Match]:
        """Drop multi-part matches whose parts are read with different polarities.

        "I hate front end and love back end" is not a statement about the whole
        stack: its parts then stand on their own.
        """
        kept = []
        for match in matches:
            polarities = {(c.polarity, c.unsure) for a, _ in match.parts if (c := self._clause_of(clauses, a)) is not None}
            if len(polarities) <= 1:
                kept.append(match)
        return kept

    def _combine(self, matches: list[_Match], clauses: Sequence[_Clause], lemmas: Sequence[str]) -> list[_Match]:
        """Topics liked together in one clause that amount to another ("React and Postgres").

        A liking for all the parts becomes a liking for the whole (and the parts
        are not separate answers); a dislike of all the parts is a dislike of
        the whole as well as of each part - unless the words say it is doing
        them together that is disliked ("juggling React and migrations in the
        same sprint"), which is a dislike of the whole only.
        """
        for whole, parts in self._combined:
            by_clause: dict[int, list[_Match]] = {}
            for match in matches:
                clause = self._clause_of(clauses, match.first)
                if clause is not None and not clause.unsure:
                    by_clause.setdefault(clause.coarse, []).append(match)
            for found in by_clause.values():
                questions = {m.cue.question_id for m in found}
                if whole in questions and self._says_together(lemmas, clauses, found[0]):
                    # "doing both the UI and the server side at once": about the whole only.
                    matches = [m for m in matches if m not in found or m.cue.question_id not in parts]
                    continue
                if whole in questions or not parts <= questions:
                    continue
                members = [m for m in found if m.cue.question_id in parts and not m.cue.inverted]
                polarities = {self._clause_of(clauses, m.first).polarity for m in members}
                if len(polarities) != 1 or None in polarities:
                    continue
                tokens = frozenset().union(*(m.tokens for m in members))
                combined = _Match(_Cue(whole, (), False), tokens, [(min(tokens), max(tokens))])
                whole_only = polarities == {1} or self._says_together(lemmas, clauses, found[0])
                matches = [m for m in matches if not (whole_only and m in members)] + [combined]
        return matches

    def _says_together(self, lemmas: Sequence[str], clauses: Sequence[_Clause], match: _Match) -> bool:
        """The words of the match's clause group speak of doing things together ("at once", "juggle")."""
        clause = self._clause_of(clauses, match.first)
        group = [c for c in clauses if clause is not None and c.coarse == clause.coarse]
        if not group:
            return False
        window = lemmas[group[0].first : group[-1].last + 1]
        return _contains_any(window, self._together)

    def _drop_weak(self, matches: list[_Match], clauses: Sequence[_Clause]) -> list[_Match]:
        """A weak cue ("~ml", "!code") counts only when its clause names no other topic.

        "data pipelines for ML" is about data; "I'd rather leave machine learning
        behind" is about ML; "writing server code bores me" says nothing about
        product management.
        """

        def coarse(match: _Match) -> Optional[int]:
            clause = self._clause_of(clauses, match.first)
            return clause.coarse if clause is not None else None

        strong = {coarse(m) for m in matches if not m.cue.weak}
        return [m for m in matches if not m.cue.weak or coarse(m) not in strong]

    @staticmethod
    def _drop_contained(matches: list[_Match]) -> list[_Match]:
        """Prefer the most specific cue: drop matches inside a larger match, and repeats."""
        kept: list[_Match] = []
        for match in matches:
            inside = any(match.tokens < other.tokens for other in matches)
            repeat = any(k.cue.question_id == match.cue.question_id and k.tokens == match.tokens for k in kept)
            if not inside and not repeat:
                kept.append(match)
        return kept

    def _reading(self, text: str, tokens: Sequence[_Token], clauses: Sequence[_Clause], matches: Sequence[_Match]) -> Reading:
        chosen: dict[str, tuple[tuple[int, int], Preference]] = {}
        first_topical = len(tokens)
        for match in sorted(matches, key=lambda m: m.first):
            clause = self._clause_of(clauses, match.first)
            if clause is None:
                continue
            # A question states nothing ("is full stack hard to learn?") unless
            # the next clause answers it ("ETL? count me out"); what it asks
            # about is kept apart, for "what if I liked frontend?".
            asked = clause.question and not clause.unsure and not clause.answered
            if not asked:
                first_topical = min(first_topical, clause.first)
            if clause.unsure:
                value: Optional[bool] = None
            else:
                value = (clause.polarity or 1) > 0
                if match.cue.inverted:
                    value = not value
            # What the person said about it: the whole clause up to the next
            # comma or "but" ("APIs and databases are my favourite").
            group = [c for c in clauses if c.coarse == clause.coarse]
            said = text[tokens[group[0].first].start : tokens[group[-1].last].end]
            explicit = clause.polarity is not None or clause.unsure
            pref = Preference(
                match.cue.question_id,
                value,
                tokens[match.first].start,
                tokens[match.last].end,
                said,
                explicit,
                asked,
                match.cue.weak,
            )
            # Within one message a statement beats a question, a direct mention
            # an inverted cue, a clear statement a bare mention; else the later wins.
            rank = (0 if asked else 1, 0 if match.cue.inverted else 1, 1 if pref.explicit else 0)
            previous = chosen.get(pref.question_id)
            if previous is None or rank >= previous[0]:
                chosen[pref.question_id] = (rank, pref)
        # The stance is what the person says before naming any topic ("no, I'd
        # rather do interfaces"); after a topic it is about that topic.
        stance, stance_said, answer_word, concludes = None, "", False, False
        for index, clause in enumerate(clauses):
            if clause.first >= first_topical:
                break
            if clause.unsure:
                stance = UNSURE
            elif clause.own and not clause.flipped and not clause.lent and not clause.question:
                stance = YES if (clause.polarity or 0) > 0 else NO
                answer_word = index == 0 and self._only_answer_words(tokens, clause)
                # "at first yes, but now it bores me": how things stand now, after how they were.
                concludes = any(c.bygone for c in clauses[:index])
            else:
                continue
            stance_said = text[tokens[clause.first].start : tokens[clause.last].end]
            break
        # "..., so no" / "..., so not that": an answer concluding the message. It is the
        # answer to the question asked, as an opening "no," is, even after topics.
        concluding = self._concluding_answer(tokens, clauses)
        if concluding is not None and stance in (None, UNSURE, YES if concluding.polarity > 0 else NO):
            answer_word = concludes = True
            if stance in (None, UNSURE):  # "it depends on the team ... so yes": the conclusion stands
                stance = YES if concluding.polarity > 0 else NO
                stance_said = text[tokens[concluding.first].start : tokens[concluding.last].end]
        prefs = sorted((p for _, p in chosen.values()), key=lambda p: p.start)
        signals = {name for name, on in (("answer_word", answer_word), ("concludes", concludes)) if on}
        return Reading(tuple(prefs), stance, stance_said, frozenset(signals))

    def _only_answer_words(self, tokens: Sequence[_Token], clause: _Clause, also: frozenset[str] = frozenset()) -> bool:
        """The clause is a bare answer ("no", "nope, not really", "so not that")."""
        lemmas = [t.lemma for t in tokens[clause.first : clause.last + 1] if t.lemma[:1].isalnum()]
        return any(w in self._answer_words for w in lemmas) and all(
            w in self._answer_words or w in self._fillers or w in also for w in lemmas
        )

    def _concluding_answer(self, tokens: Sequence[_Token], clauses: Sequence[_Clause]) -> Optional[_Clause]:
        """A bare yes / no after "so", closing a message that said something before it, if there is one."""
        trailing = [c for c in clauses if c.first > 0]
        while trailing and not trailing[-1].own and not trailing[-1].topical and len(trailing) > 1:
            trailing.pop()  # "so yes, that side of things": what follows the answer only points back
        if not trailing:
            return None
        last = trailing[-1]
        if not last.own or last.topical or last.question or last.unsure or last.polarity is None:
            return None
        # Only a conclusion ("so no"): "I love data pipelines, yes" stresses the topic.
        before = [t.lemma for t in tokens[max(0, last.first - 2) : last.first]]
        if "so" not in before:
            return None
        return last if self._only_answer_words(tokens, last, self._concluding_words) else None


def _find(seq: Sequence[str], phrase: Sequence[str]) -> Iterable[int]:
    n = len(phrase)
    for i in range(len(seq) - n + 1):
        if tuple(seq[i : i + n]) == tuple(phrase):
            yield i


def _contains_any(seq: Sequence[str], phrases: Iterable[Sequence[str]]) -> bool:
    """Whether any of ``phrases`` occurs in ``seq``."""
    return any(next(iter(_find(seq, phrase)), None) is not None for phrase in phrases)


def _gapped_tail(seq: Sequence[str], start: int, tail: Sequence[str]) -> Optional[int]:
    """Where ``tail`` starts within STANCE_GAP words after ``start`` (a gapped cue's second part), if it does."""
    window = seq[start : start + STANCE_GAP + len(tail)]
    hit = next(iter(_find(window, tail)), None)
    return None if hit is None else start + hit


def _match_at(seq: Sequence[str], i: int, phrases: Sequence[tuple[str, ...]]) -> int:
    for phrase in phrases:
        if tuple(seq[i : i + len(phrase)]) == phrase:
            return len(phrase)
    return 0
