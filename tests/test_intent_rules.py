"""Where the preference reader overrules the intent classifier."""

from __future__ import annotations

import pytest

from advisor.intent_rules import formula_intent, refine


@pytest.mark.parametrize(
    "intent, text, expected",
    [
        ("out_of_scope", "postgres migrations make me want to cry", "share_preference"),
        ("deny", "NLP doesn't interest me at all", "share_preference"),
        ("unsure", "sure", "affirm"),
        ("affirm", "count me out", "deny"),
        ("affirm", "no clue", "unsure"),
        ("unsure", "I might, I might not", None),
        ("out_of_scope", "what's the weather in Paris", None),
        ("ask_toolkit", "what does a data engineer do", None),
        ("deny", "nope", "deny"),  # kept, with the rule's confidence: words and n-grams agree
        ("deny", "I'd turn that offer down", "deny"),
        ("share_preference", "I'd decline the interview for that one", "deny"),
        ("greet", "hi, I love data pipelines", None),
        # An evaluation of "that" (the question just asked) is an answer, whatever the n-grams said ...
        ("out_of_scope", "doing that every day would make me dread Monday mornings", "deny"),
        ("ask_runner_up", "that's the kind of work I'd happily leave to someone else", "deny"),
        ("out_of_scope", "that's what I keep coming back to whenever I daydream about my next job", "affirm"),
        ("deny", "I'd find that draining, to be honest", "deny"),  # kept, now with the rule's confidence
        ("ask_next_steps", "honestly, that sounds like my next job", "affirm"),
        ("what_if", "if that's the job, I'm interested", "affirm"),
        ("out_of_scope", "I'd decline the interview for that one", "deny"),
        ("ask_why", "I'd rather steer well clear of that", "deny"),
        ("ask_why", "why is that?", None),
        # A message that ends on its answer is that answer.
        ("goodbye", "I've gone off it over the years, so no", "deny"),
        ("nlu_fallback", "at first yes, but now it bores me", "deny"),
        # ... but "that" before a noun is not the question, and a question is no answer.
        ("out_of_scope", "I love this song", None),
        ("out_of_scope", "is that a good thing?", None),
    ],
)
def test_refine(reader, intent, text, expected):
    assert refine(intent, reader.read(text)) == expected


def test_a_what_if_about_that_stays_a_what_if(reader):
    text = "suppose that sounded great to me"
    assert refine("what_if", reader.read(text), text) is None


@pytest.mark.parametrize("text", ["count me in", "a hundred percent", "difficult to say", "nah mate"])
def test_bare_answers_are_answers(reader, text):
    assert refine("out_of_scope", reader.read(text)) in ("affirm", "deny", "unsure")


@pytest.mark.parametrize("text", ["stop the music", "cancel my reservation please", "set an alarm", "what time is it"])
def test_commands_stay_out_of_scope(reader, text):
    assert refine("out_of_scope", reader.read(text)) is None


@pytest.mark.parametrize(
    "text, intent",
    [
        ("see ya!", "goodbye"),
        ("hiya", "greet"),
        ("thx a lot", "thank"),
        ("good night, thanks", None),
        ("hi, what's the weather", None),
    ],
)
def test_formulas(text, intent):
    assert formula_intent(text) == intent


@pytest.mark.parametrize("text", ["%re4U edO1", "qwrt zxvb", "asdf jkl"])
def test_gibberish_is_not_an_answer(reader, text):
    assert refine("affirm", reader.read(text)) == "nlu_fallback"


@pytest.mark.parametrize("text", ["ya", "yess", "I do", "that's me", "I am"])
def test_short_real_answers_stay(reader, text):
    assert refine("affirm", reader.read(text)) in (None, "affirm")


@pytest.mark.parametrize(
    "intent, text, expected",
    [
        ("ask_toolkit", "I'd like to be a full-stack developer", "share_preference"),
        ("what_if", "designing REST APIs is what I like", "share_preference"),
        ("what_if", "what if I liked frontend work", None),
        ("ask_toolkit", "I want to know what a data engineer does", None),
        ("ask_toolkit", "what does a data engineer do?", None),
        ("ask_toolkit", "is ML engineering a good fit for me", None),
        ("ask_toolkit", "who would enjoy data engineering", None),
        ("what_if", "what-if: I like building APIs", None),
        ("what_if", "let's say I didn't like frontend, what then", None),
        ("what_if", "supose I liked devops", None),
    ],
)
def test_statements_inside_other_intents(reader, intent, text, expected):
    assert refine(intent, reader.read(text), text) == expected


@pytest.mark.parametrize(
    "text, toolkits_named, expected",
    [
        ("If I moved into data engineering, what tools would I be working with?", True, "ask_toolkit"),
        ("suppose I became a product manager, what skills would I need?", True, "ask_toolkit"),
        # Without a toolkit, or asking what would change, it stays a "what if".
        ("If I said yes to pipelines, what tools would I need?", False, None),
        ("what if I liked data engineering, what would you recommend?", True, None),
    ],
)
def test_what_ifs_asking_about_a_toolkits_work_are_toolkit_questions(reader, text, toolkits_named, expected):
    assert refine("what_if", reader.read(text), text, toolkits_named) == expected


@pytest.mark.parametrize(
    "intent, text, toolkits_named, tools_named, expected",
    [
        # One toolkit is nothing to compare.
        ("compare_toolkits", "devops?", 1, 0, "ask_toolkit"),
        ("compare_toolkits", "data engineer?", 1, 0, "ask_toolkit"),
        ("compare_toolkits", "compare devops with the rest", 1, 0, None),
        ("compare_toolkits", "devops vs backend?", 2, 0, None),
        # A question naming one toolkit, or tools only, stating no liking.
        ("share_preference", "kubernetes and docker, is that a devops thing?", 1, 2, "ask_toolkit"),
        ("greet", "kubernets and dokcer, is that a devops thing?", 1, 0, "ask_toolkit"),
        ("list_toolkits", "which role uses mlflow?", 0, 1, "ask_toolkit"),
        ("ask_why", "MLFLOW AND WEIGHTS & BIASES, WHICH ROLE USES THOSE?", 0, 2, "ask_toolkit"),
        # ... but not a "why" about a toolkit, a statement, or a what-if.
        ("ask_why", "why devops?", 1, 0, None),
        ("share_preference", "I love docker and kubernetes", 0, 2, None),
        ("list_toolkits", "what toolkits are there?", 0, 0, None),
    ],
)
def test_questions_about_one_toolkit_or_some_tools(reader, intent, text, toolkits_named, tools_named, expected):
    assert refine(intent, reader.read(text), text, toolkits_named, tools_named) == expected
