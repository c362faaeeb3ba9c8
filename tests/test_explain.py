"""Why, why not, what if, runner-up, next steps and the decision record (plain logic)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from advisor import explain
from advisor.answers import ASKED, VOLUNTEERED, AnswerRecord
from advisor.decision_list import DecisionList
from advisor.dialogue import State, Turn, advance, settle, undo

ORDER = ["ml_production", "data_infrastructure", "full_stack", "server_side", "user_interfaces", "automation", "product_strategy"]


def state_for(catalogue, answers, how=ASKED):
    records = {q: AnswerRecord(q, v, how, f"my words about {q}") for q, v in answers.items()}
    return settle(DecisionList.from_catalogue(catalogue), State(answers=dict(answers), records=records))


def complete_answer_sets():
    """Every set of answers the decision list could end on (a yes stops it)."""
    for stop in range(len(ORDER) + 1):
        answers = {q: False for q in ORDER[:stop]}
        if stop < len(ORDER):
            answers[ORDER[stop]] = True
        yield answers


def test_why_walks_the_path_in_the_persons_words(catalogue):
    state = state_for(catalogue, {"ml_production": False, "data_infrastructure": False, "full_stack": True})
    text = explain.why(catalogue, state).text
    assert "rules out ML Engineer" in text and "rules out Data Engineer" in text
    assert "Fullstack Engineer, the first yes, wins" in text
    assert '"my words about full_stack"' in text
    path = text.split("\n", 1)[1]
    assert path.index("ML Engineer") < path.index("Data Engineer") < path.index("Fullstack")


def test_why_before_a_recommendation(catalogue):
    state = state_for(catalogue, {"ml_production": False})
    assert "haven't recommended anything yet" in explain.why(catalogue, state).text


@pytest.mark.parametrize(
    "answers", list(complete_answer_sets()), ids=lambda a: "+".join(k for k, v in a.items() if v) or "all-no"
)
def test_why_not_every_toolkit(catalogue, answers):
    state = state_for(catalogue, answers)
    recommended = state.recommendation
    for toolkit in catalogue.toolkits:
        text = explain.why_not(catalogue, state, toolkit).text
        question = catalogue.question_for(toolkit.id)
        if toolkit.id == recommended:
            assert "is my recommendation" in text
        elif question is None:
            assert "yes to" in text and "you'd need a no to" in text
        elif answers.get(question.id) is False:
            assert f"You said no to {question.topic}" in text  # ruled out by its own no
            assert "What would have led to" in text
        else:
            winner = catalogue.question(next(q for q, v in answers.items() if v))
            assert "your yes there" in text and winner.topic in text  # an earlier yes won first
            assert f"yes to {question.topic}" in text  # what would have led to it


def test_why_not_when_still_open(catalogue):
    state = state_for(catalogue, {"ml_production": False})
    text = explain.why_not(catalogue, state, catalogue.toolkit("devops_engineer")).text
    assert "still in the running" in text


@pytest.mark.parametrize(
    "answers", list(complete_answer_sets()), ids=lambda a: "+".join(k for k, v in a.items() if v) or "all-no"
)
def test_what_if_every_flip_that_changes_the_leaf(catalogue, answers):
    decisions = DecisionList.from_catalogue(catalogue)
    state = state_for(catalogue, answers)
    for question_id, value in answers.items():
        flipped = {**answers, question_id: not value}
        result = explain.what_if(catalogue, state, {question_id: not value})
        after = decisions.outcome(flipped)
        text = result.reply.text
        assert state.answers == answers  # exploring changes nothing
        if after is None:
            assert "I'd still need to ask about" in text
        elif after.toolkit_id != state.recommendation:
            new, old = catalogue.toolkit(after.toolkit_id).name, catalogue.toolkit(state.recommendation).name
            assert f"I'd recommend {new} instead of {old}" in text
        else:
            assert "would stay" in text


def test_committing_a_what_if(catalogue, reader):
    state = state_for(catalogue, {"ml_production": False, "data_infrastructure": False, "full_stack": False, "server_side": True})
    offer = {"kind": "what_if", "changes": {"data_infrastructure": True}, "said": "what if I said yes to data pipelines?"}
    result = advance(catalogue, State(**{**state.__dict__, "offer": offer}), Turn("affirm", "yes", reader.read("yes")))
    assert result.state.recommendation == "data_engineer"
    assert "moves from Backend Engineer to Data Engineer" in result.reply.text
    assert result.state.offer is None
    kept = advance(catalogue, State(**{**state.__dict__, "offer": offer}), Turn("deny", "no", reader.read("no")))
    assert kept.state.recommendation == "backend_engineer" and "kept your answers" in kept.reply.text


def test_runner_up_prefers_a_later_yes(catalogue):
    state = state_for(catalogue, {"ml_production": False, "data_infrastructure": True, "automation": True})
    result = explain.runner_up(catalogue, state)
    assert result.toolkit.id == "devops_engineer" and result.open_question is None
    assert "only lost because" in result.reply.text


def test_runner_up_offers_the_open_question(catalogue, reader):
    state = state_for(catalogue, {"ml_production": True})
    result = explain.runner_up(catalogue, state)
    assert result.toolkit.id == "data_engineer"
    assert result.open_question.id == "data_infrastructure"
    assert "It shares" in result.reply.text
    offered = State(**{**state.__dict__, "offer": {"kind": "answer", "question": "data_infrastructure"}})
    answered = advance(catalogue, offered, Turn("affirm", "yes", reader.read("yes")))
    assert answered.state.answers["data_infrastructure"] is True
    assert answered.state.recommendation == "ml_engineer"


def test_runner_up_when_every_other_answer_is_no(catalogue):
    state = state_for(catalogue, {q: q == "product_strategy" for q in ORDER})
    result = explain.runner_up(catalogue, state)
    assert result.toolkit is not None and result.toolkit.id != "product_manager"
    assert "None of the other alternatives got a yes" in result.reply.text


@pytest.mark.parametrize(
    "toolkit_id",
    [
        "computer_vision_engineer",
        "ml_engineer",
        "data_engineer",
        "fullstack_engineer",
        "backend_engineer",
        "devops_engineer",
        "frontend_engineer",
        "product_manager",
    ],
)
def test_next_steps_for_every_toolkit(catalogue, toolkit_id):
    toolkit = catalogue.toolkit(toolkit_id)
    text = explain.next_steps(catalogue, toolkit).text
    assert toolkit.added.first_project in text
    assert sum(r.url in text for r in toolkit.added.resources) >= 2
    assert "not from the source guide" in text


def test_decision_record(catalogue):
    state = state_for(catalogue, {"ml_production": False, "data_infrastructure": True}, how=VOLUNTEERED)
    record = explain.decision_record(catalogue, state, dt.date(2026, 11, 26))
    assert record["recommendation"] == "data_engineer"
    assert record["date"] == "2026-11-26" and record["catalogue_version"] == catalogue.version
    assert [a["question"] for a in record["answers"]] == ["ml_production", "data_infrastructure"]
    assert record["runner_up"] and record["next_steps"]["first_project"]
    markdown = explain.record_markdown(catalogue, record)
    assert markdown.startswith("# Toolkit Advisor - decision record (2026-11-26)")
    assert "**Recommendation:** Data Engineer" in markdown


def test_two_changes_after_the_recommendation_end_right_without_repeats(catalogue, reader):
    """Change two answers after the recommendation: right toolkit, no question asked twice."""
    asked = []

    def say(state, text, intent="share_preference"):
        result = advance(catalogue, state, Turn(intent, text, reader.read(text)))
        if result.state.current_question:
            asked.append(result.state.current_question)
        return result.state

    state = say(State(), "I'm not into deploying ML models and data pipelines bore me")
    state = say(state, "no", "deny")  # full_stack
    state = say(state, "APIs and databases are my favourite")
    assert state.recommendation == "backend_engineer"
    state = say(state, "actually I'd love building complete apps end to end")
    assert state.recommendation == "fullstack_engineer"
    state = say(state, "on second thought, data pipelines sound great")
    assert state.recommendation == "data_engineer"
    assert len(asked) == len(set(asked))


def test_go_back_forgets_the_last_answer(catalogue, reader):
    state = advance(catalogue, State(), Turn("greet", "hi", reader.read("hi"))).state
    state = advance(catalogue, state, Turn("deny", "no", reader.read("no"))).state
    assert state.current_question == "data_infrastructure"
    result = undo(catalogue, state)
    assert result.state.answers["ml_production"] is None
    assert result.state.current_question == "ml_production"
    assert "taken back your answer" in result.reply.text


def test_explanations_hold_for_partial_answers(catalogue):
    """Any mix of yes / no / unknown for the first questions gets an explanation."""
    for values in itertools.product([True, False, None], repeat=3):
        answers = {q: v for q, v in zip(ORDER[:3], values, strict=True)}
        state = state_for(catalogue, {q: v for q, v in answers.items() if v is not None})
        assert explain.why(catalogue, state).text
        assert explain.runner_up(catalogue, state).reply.text
