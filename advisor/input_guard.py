"""What a message must look like before the assistant tries to understand it.

People paste anything into a public chat: nothing at all, emoji, a whole CV,
terminal output full of control characters, another language, HTML, SQL - or
Rasa's own ``/intent{"entity": "value"}`` syntax, which Rasa would otherwise
take at its word (``/restart`` wipes a conversation, ``/session_start`` starts
a new one, ``/affirm{"recommendation": ...}`` carries made-up entities).

:func:`inspect` looks at the raw text once, cheaply and offline, and returns
the text the NLU pipeline may see plus, for a message that is not a
conversational turn, the :class:`Issue` that the out-of-scope action explains
to the person. It is plain Python (no Rasa imports), so it is tested on its
own; ``components/input_guard.py`` runs it as the first NLU component, which
is why it covers every channel (REST, web chat, Slack, ``rasa shell``) with one
mechanism.

Decisions, each for a reason:

- **Normalise, don't refuse.** Control and format characters (NUL, escape
  sequences, zero-width and bidi-override characters, lone surrogates that
  cannot even be encoded as UTF-8) are removed and whitespace collapsed; what
  is left is an ordinary message.
- **Cut, then don't guess.** Text longer than ``max_chars`` is cut before any
  other component sees it (so spaCy and the n-gram featurizers never work on
  20,000 characters), and the cut message is *not* read as an answer: an
  answer read from a message cut mid-sentence ("I love deploying models but
  not...") could be the opposite of what was meant. The reply says it was cut.
- **Words, not markup.** HTML tags, comments and script/style elements are
  taken out before NLU ("<b>I love data pipelines</b>" is read as its words);
  a message that was nothing but markup gets its own reply. Rendering stays
  the channels' job (the web chat shows text as text; Slack escapes it).
- **No words, no turn.** The intent classifier, trained on sentences, picks
  some intent for anything - a stray "I" reads as the start of "I do", "u" as
  "unsure" - so text without a word (two or more letters/digits, a number, or
  a bare y/n/k: emoji, punctuation, "I", "x-x") is answered with a request for
  words and never reaches it.
- **English only, said plainly.** The models are trained on English; a
  message in another language would be misread rather than not understood.
  Two cheap signals, no downloads: most letters outside ASCII (Cyrillic, CJK,
  Arabic, Greek, ...), or at least two common words of Spanish, French,
  German, Italian, Portuguese or Dutch and hardly any English ones. Short
  English answers ("nope", "k8s all day long") never trip it: a foreign verdict
  needs evidence, not the absence of English.
- **Payloads only from the allowlist.** Text starting with ``/`` is passed on
  only when it is exactly ``/intent`` or ``/intent{...}`` with an allowed intent
  and only that intent's allowed entity keys, each with a short plain string
  value - i.e. what the assistant's own buttons send. Anything else that looks
  like a payload is neutralised (Rasa's ``RegexMessageHandler`` never sees it);
  text that merely starts with a slash ("/usr/bin/python is my jam") loses the
  slash and is read as words.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Sequence

DEFAULT_MAX_CHARS = 1000

# The issues a message can have; the out-of-scope action has one reply per issue.
EMPTY = "empty"  # nothing left after removing whitespace and control characters
NO_WORDS = "no_words"  # no word at all: emoji, punctuation, digits, stray single letters
TOO_LONG = "too_long"
NOT_ENGLISH = "not_english"
PAYLOAD = "payload"  # /intent{...} typed or sent that no button of ours sends
MARKUP = "markup"  # nothing but HTML tags (and script/style code)

# A payload as Rasa parses it: /intent, optional @confidence, optional {entities}.
_PAYLOAD = re.compile(r"^/(?P<intent>[^{@]*)(?P<confidence>@[^{]*)?(?P<entities>\{.*\})?(?P<rest>.*)$", re.DOTALL)
_INTENT_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_ENTITY_VALUE = re.compile(r"^[A-Za-z0-9_.\- ]{1,64}$")
_WHITESPACE = re.compile(r"\s+")
# Terminal escape sequences (colours, cursor moves) pasted from a console: removed whole.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
# HTML: script/style elements with their content, comments, then any tag.
_HTML_BLOCK = re.compile(r"<(script|style)\b[^>]*>.*?(</\1\s*>|$)|<!--.*?(-->|$)", re.IGNORECASE | re.DOTALL)
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
# A run of letters/digits, for has_words().
_TOKEN = re.compile(r"[^\W_]+")
# Replies that are a single letter by chat convention: yes, no, ok.
SINGLE_LETTER_REPLIES = frozenset("ynk")

# Categories removed: control (Cc, except whitespace), format (Cf: zero-width
# spaces, bidi overrides, BOM), surrogates (Cs), unassigned (Cn).
_REMOVED_CATEGORIES = {"Cc", "Cf", "Cs", "Cn"}

# Common English words: any of them in a message is evidence of English.
_ENGLISH = """
    a about after again all also am an and any are as at be because been being both but by can could
    did do does doing don't done down each even ever every for from get give go going good got had has
    have having he her here hers him his how i i'd i'll i'm i've if in into is isn't it it's its just
    know like love make many me more most much my need never no nope nor not now of off ok okay on once
    one only or other our out over own please rather really same say see she should so some still such
    sure than thank thanks that that's the their them then there these they thing things think this
    those through to too under until up us very want was way we well were what when where which while
    who why will with would yeah yes yet you you're your yours hate enjoy work job career data
    engineer engineering build building models model code coding design team people tell compare
    what's hi hello hey bye maybe dunno
"""
ENGLISH_WORDS = frozenset(_ENGLISH.split())

# Frequent function words (and a few greetings) of the Latin-script languages
# people are most likely to write in instead. Words that are also English, or
# that engineers use in English ("a", "in", "me", "no", "die", "per", "non",
# "io", "com", "sim", "algo", "er", "um", ...), are left out or dropped below,
# so that only unambiguous evidence counts.
_FOREIGN_BY_LANGUAGE = {
    "es": "el la los las del que qué y en un una es por para mi te se su lo le pero como cómo más muy tú sí está "
    "estoy soy quiero gusta hacer trabajo puedo sobre también hola gracias cuál dónde porque esto eso ser tengo "
    "mucho nada",
    "fr": "le la les des du que qui et en un une est avec ma mes je tu il elle nous vous ils sur dans pas très suis "
    "veux aime faire travail bonjour merci oui quel quelle où pourquoi c'est j'aime ce cette",
    "de": "der das des und ist ein eine einen nicht ich du sie wir ihr für auf möchte gerne arbeit hallo danke ja "
    "nein wie warum mein meine sehr auch oder aber",
    "it": "il lo la gli le di del della che è un una mio mia tu lui lei noi voi sono più molto voglio piace lavoro "
    "ciao grazie sì perché questo quello anche ma",
    "pt": "o os do da das que é uma para meu minha eu tu ele ela nós não mais muito sou quero gosto fazer trabalho "
    "olá obrigado obrigada porque isso também mas você",
    "nl": "de het een en ik je jij hij zij wij niet voor wil graag werk hallo ja nee wat hoe waarom mijn ook maar",
}
FOREIGN_WORDS = frozenset(w for words in _FOREIGN_BY_LANGUAGE.values() for w in words.split()) - ENGLISH_WORDS
_FOREIGN_MARKS = frozenset("¿¡")


@dataclass(frozen=True)
class GuardConfig:
    """The guard's settings (``InputGuard`` in config.yml)."""

    max_chars: int = DEFAULT_MAX_CHARS
    # intent -> entity keys a payload of that intent may carry.
    allowed_payloads: Mapping[str, frozenset[str]] = field(default_factory=dict)
    detect_language: bool = True

    @classmethod
    def from_dict(cls, config: Mapping[str, Any]) -> GuardConfig:
        max_chars = int(config.get("max_chars", DEFAULT_MAX_CHARS))
        if max_chars < 1:
            raise ValueError(f"InputGuard: max_chars must be a positive number of characters, not {max_chars}")
        allowed = config.get("allowed_payloads") or {}
        if not isinstance(allowed, Mapping):
            raise ValueError("InputGuard: allowed_payloads must map intent names to lists of entity keys")
        payloads = {}
        for intent, keys in allowed.items():
            if keys is not None and (isinstance(keys, str) or not isinstance(keys, Sequence)):
                raise ValueError(f"InputGuard: allowed_payloads.{intent} must be a list of entity keys")
            payloads[str(intent)] = frozenset(str(k) for k in keys or ())
        return cls(max_chars=max_chars, allowed_payloads=payloads, detect_language=bool(config.get("detect_language", True)))


@dataclass(frozen=True)
class Issue:
    """Why a message is not treated as a conversational turn."""

    kind: str
    length: int = 0  # characters received (for TOO_LONG)
    limit: int = 0  # the configured maximum (for TOO_LONG)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"issue": self.kind}
        if self.kind == TOO_LONG:
            data.update(length=self.length, limit=self.limit)
        return data


@dataclass(frozen=True)
class Inspection:
    """The text the NLU pipeline may see, and the issue if the message is not a turn."""

    text: str
    issue: Optional[Issue] = None
    cleaned: bool = False  # control characters or odd whitespace were removed


def strip_markup(text: str) -> str:
    """The text without HTML tags, comments and script/style elements (their words stay for NLU)."""
    return _HTML_TAG.sub(" ", _HTML_BLOCK.sub(" ", text))


def clean(text: str) -> str:
    """The text without escape sequences and control/format characters, whitespace collapsed."""
    text = _ANSI.sub(" ", text)
    kept = []
    for char in text:
        if char.isspace():
            kept.append(" ")
        elif unicodedata.category(char) not in _REMOVED_CATEGORIES:
            kept.append(char)
    return _WHITESPACE.sub(" ", "".join(kept)).strip()


def payload_allowed(text: str, allowed: Mapping[str, frozenset[str]]) -> bool:
    """True for ``/intent`` or ``/intent{"key": "value", ...}`` exactly as the allowlist permits."""
    match = _PAYLOAD.match(text)
    if not match or match.group("confidence") or match.group("rest"):
        return False
    intent = match.group("intent")
    if intent not in allowed:
        return False
    if not match.group("entities"):
        return True
    try:
        entities = json.loads(match.group("entities"))
    except ValueError:
        return False
    if not isinstance(entities, dict):
        return False
    return all(
        key in allowed[intent] and isinstance(value, str) and _ENTITY_VALUE.match(value) for key, value in entities.items()
    )


def looks_like_payload(text: str) -> bool:
    """Would Rasa try to read this as ``/intent...``? (A name-like word right after the slash.)"""
    match = _PAYLOAD.match(text)
    return bool(match) and bool(_INTENT_NAME.match(match.group("intent").strip()))


def has_words(text: str) -> bool:
    """True if the text has a word: two or more letters/digits ("ok", "k8s", "50/50"), a number, or a bare y / n / k.

    Text without one ("👍", "!!!", "I", "u ?", "x-x") carries no meaning the
    assistant could act on, yet its intent classifier - trained on sentences -
    still picks *some* intent for it, sometimes confidently ("I" looks like the
    start of "I do"). Answering such text with a request for words keeps it
    from ever being taken as an answer.
    """
    tokens = _TOKEN.findall(text)
    if len(tokens) == 1 and tokens[0].lower() in SINGLE_LETTER_REPLIES:
        return True
    return any(len(t) >= 2 or t.isdigit() for t in tokens)


def is_not_english(text: str) -> bool:
    """A cheap, offline verdict: True only with positive evidence of another language."""
    letters = [c for c in text if c.isalpha()]
    non_ascii = sum(1 for c in letters if not c.isascii())
    if non_ascii >= 2 and non_ascii / len(letters) >= 0.5:
        return True
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return False
    foreign = sum(1 for w in words if w in FOREIGN_WORDS) + sum(1 for c in text if c in _FOREIGN_MARKS)
    english = sum(1 for w in words if w in ENGLISH_WORDS)
    return foreign >= 2 and foreign >= 2 * english


def inspect(raw: Any, config: GuardConfig) -> Inspection:
    """Inspect one message: the text NLU may see (empty for a non-turn) and the issue, if any."""
    raw = raw if isinstance(raw, str) else ""
    length = len(raw)
    if length > config.max_chars:
        # Cut first, so nothing below ever works on more than max_chars characters.
        return Inspection("", Issue(TOO_LONG, length=length, limit=config.max_chars), cleaned=True)
    text = clean(raw)
    cleaned = text != raw
    if not text:
        return Inspection("", Issue(EMPTY), cleaned)
    if text.startswith("/"):
        if payload_allowed(text, config.allowed_payloads):
            return Inspection(text, None, cleaned)
        if looks_like_payload(text):
            return Inspection("", Issue(PAYLOAD), True)
        # A message that merely starts with a slash: read it as words.
        text = text.lstrip("/ ")
        cleaned = True
        if not text:
            return Inspection("", Issue(EMPTY), cleaned)
    if "<" in text:
        # Tags are not words: "<b>I love data pipelines</b>" is read as its words; a
        # message that is nothing but markup (or a script) gets its own reply.
        plain = clean(strip_markup(text))
        if plain != text:
            if not plain:
                return Inspection("", Issue(MARKUP), True)
            text, cleaned = plain, True
    if not has_words(text):
        return Inspection("", Issue(NO_WORDS), cleaned)
    if config.detect_language and is_not_english(text):
        return Inspection("", Issue(NOT_ENGLISH), cleaned)
    return Inspection(text, None, cleaned)


# -- replies -------------------------------------------------------------------------

REPLIES = {
    EMPTY: "Your message reached me empty - type a few words, or use the buttons.",
    NO_WORDS: "I couldn't find any words in that - type a few words, or use the buttons.",
    NOT_ENGLISH: (
        "Sorry, I only speak English - could you say that in English? "
        "(Lo siento / Désolé / Leider / Mi dispiace: I only understand English.)"
    ),
    MARKUP: "I only read plain text, and that looked like HTML or code - tell me in a few words, or use the buttons.",
    PAYLOAD: (
        'Messages starting with "/" are commands for my buttons, and I don\'t take that one as typed text - '
        "just tell me in your own words, or use the buttons."
    ),
}


def reply_for(issue: Mapping[str, Any]) -> Optional[str]:
    """The explanation for an issue as stored in the parse data (``Issue.as_dict``)."""
    kind = issue.get("issue")
    if kind == TOO_LONG:
        length, limit = int(issue.get("length") or 0), int(issue.get("limit") or 0)
        return (
            f"Your message was {length:,} characters long, more than the {limit:,} I accept, so I cut it off and "
            "didn't take any of it as an answer. Could you say it in a sentence or two?"
        )
    return REPLIES.get(str(kind)) if kind else None
