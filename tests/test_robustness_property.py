"""Property-based: whatever is thrown at the running bot, it answers, and non-answers change no answer.

Hypothesis generates messages in seven families and sends each one to the
real servers over REST, in a conversation with one answer recorded and the
next question pending. For every message: no 5xx, a 200 with at least one
reply. For every message that *cannot* be an answer - by construction, not by
asking the bot - the answers, the pending question and the recommendation
stay exactly as they were:

- no words: punctuation, symbols, emoji, whitespace, stray single letters;
- other scripts: runs of CJK, Arabic, Cyrillic, Greek, ... letters;
- control: control/format characters and terminal escape sequences only;
- payloads: ``/intent{...}`` with Rasa's built-in intents, intents no button
  sends, entities such as ``recommendation`` or an answer slot, confidences -
  anything the allowlist in config.yml does not allow;
- markup: tags and script/style elements with arbitrary content;
- too long: more characters than the configured maximum;
- anything: arbitrary Unicode text, checked for the answers only when it has
  no letter or digit at all (text with words is a conversation: whether it
  answers is the NLU's judgement, measured by the phrasing and NLU tests).

The run is derandomised (the same examples every time, so CI is not flaky)
and kept to ~150 examples with no deadline: each example is a real HTTP turn.
"""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.input_guard import GuardConfig, payload_allowed
from tests.http_client import QUESTION_IDS, Client, new_sender
from tests.test_input_guard import guard_settings

pytestmark = pytest.mark.servers

EXAMPLES = 150
GUARD = GuardConfig.from_dict(guard_settings())

SYMBOLS = [*string.punctuation, " ", "\t", "\n", *"👍🙂🔥🚀✨…—«»©™°±→★♥", "❤️"]
STRAY_LETTERS = [c for c in string.ascii_letters if c.lower() not in "ynk"]
OTHER_SCRIPTS = st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),  # CJK
    st.characters(min_codepoint=0x0410, max_codepoint=0x044F),  # Cyrillic
    st.characters(min_codepoint=0x0627, max_codepoint=0x064A),  # Arabic
    st.characters(min_codepoint=0x03B1, max_codepoint=0x03C9),  # Greek
    st.characters(min_codepoint=0x3041, max_codepoint=0x3096),  # Hiragana
    st.characters(min_codepoint=0x0905, max_codepoint=0x0939),  # Devanagari
)
CONTROL = [chr(c) for c in range(0x00, 0x20)] + ["\x7f", "\u200b", "\u200e", "\u202e", "\ufeff", "\x1b[31m", "\x1b[0m", "\x1b[2J"]
INTENTS = [
    "restart", "back", "session_start", "out_of_scope", "nlu_fallback", "greet", "affirm", "deny", "unsure",
    "share_preference", "start_over", "go_back", "what_if", "summarise", "ask_why", "ask_why_not", "ask_toolkit",
    "compare_toolkits", "list_toolkits", "ask_runner_up", "ask_next_steps", "help", "goodbye", "thank",
    "action_restart", "action_session_start", "",
]  # fmt: skip
ENTITY_KEYS = ["recommendation", "preference", "stance", "question", "toolkit", "current_question", *QUESTION_IDS]
ENTITY_VALUES = st.one_of(
    st.sampled_from(["devops_engineer", "data_engineer", "yes", "no", "ml_production", "automation"]),
    st.booleans(),
    st.integers(),
    st.none(),
    st.lists(st.sampled_from(["yes", "devops_engineer"]), max_size=2),
    st.text(max_size=10),
)


def _no_words() -> st.SearchStrategy[str]:
    piece = st.one_of(st.sampled_from(SYMBOLS), st.sampled_from(STRAY_LETTERS).map(lambda c: f" {c} "))
    return st.lists(piece, min_size=1, max_size=25).map("".join)


@st.composite
def payloads(draw: st.DrawFn) -> str:
    intent = draw(st.sampled_from(INTENTS))
    confidence = draw(st.sampled_from(["", "", "@1.0", "@0.2", "@"]))
    entities = draw(st.dictionaries(st.sampled_from(ENTITY_KEYS), ENTITY_VALUES, max_size=3))
    body = json.dumps(entities) if entities or draw(st.booleans()) else ""
    text = f"/{intent}{confidence}{body}" + draw(st.sampled_from(["", "", " please", "}}"]))
    return draw(st.sampled_from(["", " ", "  "])) + text


@st.composite
def markup(draw: st.DrawFn) -> str:
    tag = draw(st.sampled_from(["b", "i", "div", "span", "a", "img", "iframe", "svg", "p"]))
    attrs = draw(
        st.sampled_from(["", ' href="javascript:alert(1)"', " src=x onerror=alert(1)", " onload=alert(document.cookie)"])
    )
    inner = draw(_no_words())
    block = draw(st.sampled_from(["script", "style"]))
    code = draw(st.text(max_size=40).filter(lambda t: "<" not in t))
    return draw(
        st.sampled_from(
            [
                f"<{tag}{attrs}>{inner}</{tag}>",
                f"<{tag}{attrs}/>",
                f"<{block}>{code}</{block}>",
                f"<!--{code}-->",
                f"<{tag}{attrs}>",
            ]
        )
    )


NOT_ANSWERS = st.one_of(
    st.tuples(st.just("no words"), _no_words()),
    st.tuples(st.just("other scripts"), st.text(OTHER_SCRIPTS, min_size=2, max_size=40)),
    st.tuples(st.just("control"), st.lists(st.sampled_from(CONTROL), min_size=1, max_size=20).map("".join)),
    st.tuples(st.just("payload"), payloads().filter(lambda p: not payload_allowed(p.strip(), GUARD.allowed_payloads))),
    st.tuples(st.just("markup"), markup()),
    st.tuples(
        st.just("too long"),
        st.integers(GUARD.max_chars + 1, 25_000).flatmap(lambda n: st.just("yes I love data pipelines " * (n // 26 + 1))),
    ),
)
ANYTHING = st.tuples(st.just("anything"), st.text(max_size=200))


def snapshot(bot: Client, sender: str) -> dict:
    slots = bot.slots(sender)
    return {k: slots.get(k) for k in (*QUESTION_IDS, "current_question", "recommendation")}


@pytest.fixture(scope="module")
def conversation(stack):
    bot = Client(stack.url, stack.token)
    sender = new_sender("prop")
    bot.say(sender, "hi")
    bot.say(sender, "no")
    baseline = snapshot(bot, sender)
    assert baseline["ml_production"] is False and baseline["current_question"] == "data_infrastructure"
    return bot, sender, baseline


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
@given(st.one_of(NOT_ANSWERS, NOT_ANSWERS, NOT_ANSWERS, ANYTHING))
def test_random_messages_get_a_reply_and_non_answers_change_nothing(conversation, case):
    bot, sender, baseline = conversation
    family, text = case
    strict = family != "anything" or not any(c.isalnum() for c in text)
    target = sender if strict else new_sender("prop-any")
    status, reply = bot.request("POST", "/webhooks/rest/webhook", {"sender": target, "message": text}, token=False)
    assert status == 200, (family, text, status, reply)
    assert isinstance(reply, list) and any(m.get("text") for m in reply), (family, text, reply)
    if strict:
        assert snapshot(bot, sender) == baseline, (family, text)
