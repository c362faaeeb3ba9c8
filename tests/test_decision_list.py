"""The decision list: every leaf, the order, volunteered answers, never asking twice."""

from __future__ import annotations

import itertools

import pytest

from advisor.decision_list import DecisionList

ORDER = ["ml_production", "data_infrastructure", "full_stack", "server_side", "user_interfaces", "automation", "product_strategy"]
LEAF = {
    "ml_production": "ml_engineer",
    "data_infrastructure": "data_engineer",
    "full_stack": "fullstack_engineer",
    "server_side": "backend_engineer",
    "user_interfaces": "frontend_engineer",
    "automation": "devops_engineer",
    "product_strategy": "product_manager",
}


@pytest.fixture(scope="module")
def decisions(catalogue):
    return DecisionList.from_catalogue(catalogue)


def walk(decisions, truth):
    """Answer questions as asked until a leaf; return (asked, outcome)."""
    answers, asked = {}, []
    while (question := decisions.next_question(answers)) is not None:
        assert question.id not in answers, "asked a question whose answer is recorded"
        asked.append(question.id)
        answers[question.id] = truth[question.id]
    return asked, decisions.outcome(answers)


@pytest.mark.parametrize("winner", ORDER)
def test_each_leaf_is_reached_by_its_yes(decisions, winner):
    truth = {q: q == winner for q in ORDER}
    asked, outcome = walk(decisions, truth)
    assert outcome.toolkit_id == LEAF[winner]
    assert asked == ORDER[: ORDER.index(winner) + 1]
    assert [q.id for q in outcome.ruled_out] == ORDER[: ORDER.index(winner)]
    assert outcome.deciding.id == winner


def test_all_no_leads_to_the_starting_point(decisions):
    asked, outcome = walk(decisions, {q: False for q in ORDER})
    assert outcome.toolkit_id == "computer_vision_engineer"
    assert outcome.deciding is None and len(outcome.ruled_out) == 7
    assert asked == ORDER


def test_first_yes_wins_for_every_combination(decisions):
    for values in itertools.product([True, False], repeat=len(ORDER)):
        truth = dict(zip(ORDER, values, strict=True))
        _, outcome = walk(decisions, truth)
        first_yes = next((q for q in ORDER if truth[q]), None)
        assert outcome.toolkit_id == (LEAF[first_yes] if first_yes else "computer_vision_engineer")


def test_volunteered_answers_skip_questions(decisions):
    answers = {"data_infrastructure": True}
    assert decisions.next_question(answers).id == "ml_production"
    answers["ml_production"] = False
    assert decisions.next_question(answers) is None
    assert decisions.outcome(answers).toolkit_id == "data_engineer"


def test_later_no_does_not_decide_early(decisions):
    answers = {"automation": False, "user_interfaces": False}
    assert decisions.outcome(answers) is None
    assert decisions.next_question(answers).id == "ml_production"
    assert decisions.remaining(answers) == 5


def test_a_yes_makes_later_questions_unnecessary(decisions):
    answers = {"ml_production": False, "data_infrastructure": True}
    assert not decisions.is_needed("automation", answers)
    assert decisions.is_needed("ml_production", {})
    assert decisions.remaining(answers) == 0
