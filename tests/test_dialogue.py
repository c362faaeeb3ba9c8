"""One conversation turn at a time, with the real catalogue and the real reader (no Rasa)."""

from __future__ import annotations

import pytest

from advisor.answers import ASKED, ASSUMED, VOLUNTEERED
from advisor.dialogue import State, Turn, advance


@pytest.fixture
def talk(catalogue, reader):
    """Say ``text`` (classified as ``intent``) in ``state``; return the result."""

    def say(state, text, intent="share_preference", button=None):
        return advance(catalogue, state, Turn(intent, text, reader.read(text), button))

    return say


def test_greeting_introduces_and_asks_first_question(talk):
    result = talk(State(), "hi", "greet")
    assert "Toolkit Advisor" in result.reply.text
    assert result.state.current_question == "ml_production"
    assert result.reply.messages[-1].buttons[0].payload == '/affirm{"question":"ml_production"}'


def test_opening_with_two_preferences_recommends_at_once(talk):
    result = talk(State(), "I love data pipelines but deploying models bores me")
    assert result.state.recommendation == "data_engineer"
    assert result.state.answers == {"data_infrastructure": True, "ml_production": False}
    assert result.state.current_question is None
    assert {r.how for r in result.state.records.values()} == {VOLUNTEERED}
    assert "Data Engineer" in result.reply.text and "deploying models bores me" in result.reply.text


def test_plain_yes_and_no_answer_the_pending_question(talk):
    state = talk(State(), "hello", "greet").state
    state = talk(state, "nope", "deny").state
    assert state.answers["ml_production"] is False
    assert state.records["ml_production"].how == ASKED
    assert state.current_question == "data_infrastructure"
    state = talk(state, "I would say so", "affirm").state
    assert state.recommendation == "data_engineer"


def test_not_sure_explains_then_moves_on(talk, catalogue):
    state = talk(State(), "hi", "greet").state
    result = talk(state, "I'm not sure", "unsure")
    assert catalogue.question("ml_production").explanation in result.reply.text
    assert result.state.current_question == "ml_production"
    assert "ml_production" not in {q for q, v in result.state.answers.items() if v is not None}
    second = talk(result.state, "still not sure", "unsure")
    assert second.state.answers["ml_production"] is False
    assert second.state.records["ml_production"].how == ASSUMED
    assert second.state.current_question == "data_infrastructure"


def test_volunteered_answer_while_another_is_pending(talk):
    state = talk(State(), "hi", "greet").state
    result = talk(state, "CSS drives me crazy")
    assert result.state.answers["user_interfaces"] is False
    assert result.state.current_question == "ml_production"
    assert "Got it" in result.reply.text


def test_never_asks_a_recorded_question(talk):
    state = talk(State(), "Kubernetes is fun, and I can't stand CSS", "share_preference").state
    asked = []
    truth = {"ml_production": False, "data_infrastructure": False, "full_stack": False, "server_side": False}
    while state.current_question:
        assert state.answers.get(state.current_question) is None
        asked.append(state.current_question)
        state = talk(state, "no", "deny").state if not truth[state.current_question] else talk(state, "yes", "affirm").state
    # Not full_stack either: "I can't stand CSS" already rules out building both ends.
    assert asked == ["ml_production", "data_infrastructure", "server_side"]
    assert state.recommendation == "devops_engineer"


def test_stale_button_changes_nothing(talk):
    state = talk(State(), "hi", "greet").state
    state = talk(state, "no", "deny").state
    result = talk(state, "/affirm", "affirm", button="ml_production")
    assert result.state.answers == state.answers
    assert "earlier question" in result.reply.text


def test_button_for_the_pending_question_answers_it(talk):
    state = talk(State(), "hi", "greet").state
    result = talk(state, "/affirm", "affirm", button="ml_production")
    assert result.state.recommendation == "ml_engineer"


def test_changing_an_answer_after_the_recommendation(talk):
    state = talk(State(), "I love data pipelines but deploying models bores me").state
    result = talk(state, "actually I do love deploying models")
    assert result.state.recommendation == "ml_engineer"
    assert result.changed == ("ml_production",)
    assert "moves from Data Engineer to ML Engineer" in result.reply.text


def test_nothing_understood_repeats_the_question(talk):
    state = talk(State(), "hi", "greet").state
    result = talk(state, "hmm well", "share_preference")
    assert result.state == state
    assert "didn't catch" in result.reply.text


def test_non_answer_intents_record_nothing(talk):
    state = talk(State(), "hi", "greet").state
    result = talk(state, "I love data pipelines", "out_of_scope")
    assert result.state.answers == state.answers


def test_all_no_recommends_staying(talk):
    state = talk(State(), "hi", "greet").state
    while state.current_question:
        state = talk(state, "no", "deny").state
    assert state.recommendation == "computer_vision_engineer"


def test_a_passing_remark_does_not_overturn_an_earlier_answer(talk):
    state = talk(State(), "hi", "greet").state
    state = talk(state, "no", "deny").state  # ml_production
    state = talk(state, "data pipelines bore me").state
    assert state.answers["data_infrastructure"] is False
    # answering the full-stack question while mentioning data work in passing
    state = talk(state, "no, I'd rather build data pipelines than whole apps").state
    assert state.answers["data_infrastructure"] is False and state.answers["full_stack"] is False
    # an explicit change of mind does overturn it
    state = talk(state, "actually, data pipelines sound great").state
    assert state.answers["data_infrastructure"] is True
    assert state.recommendation == "data_engineer"


def test_an_answer_word_beats_a_misreading_of_the_question_asked(talk):
    state = talk(State(), "hi", "greet").state  # ml_production pending
    # "can be a pain" reads as doubt about taking models to production; the "yes" says otherwise.
    result = talk(state, "yes, though deploying models can be a pain")
    assert result.state.answers == {"ml_production": True}
    assert result.state.recommendation == "ml_engineer"


def test_a_concluding_answer_word_answers_the_question_asked(talk):
    state = talk(State(), "hi", "greet").state
    for _ in range(4):  # ml_production, data_infrastructure, full_stack, server_side
        state = talk(state, "no", "deny").state
    assert state.current_question == "user_interfaces"
    state = talk(
        state, "I've built a couple of internal UIs and disliked every minute of chasing pixel alignment, so not that"
    ).state
    assert state.answers["user_interfaces"] is False
    assert state.current_question == "automation"


def test_a_no_to_part_of_the_stack_is_a_no_to_the_whole_stack(talk):
    result = talk(State(), "front-end work is what I enjoy, but I'd like to stay away from the backend side entirely")
    assert result.state.answers == {"user_interfaces": True, "server_side": False, "full_stack": False}
    assert result.state.records["full_stack"].said == result.state.records["server_side"].said
    # An answer already given is not overwritten by the inference.
    state = talk(State(), "I want to build whole apps, front end and back end").state
    assert state.answers["full_stack"] is True
    state = talk(state, "actually, I can't stand backend work").state
    assert state.answers["full_stack"] is True and state.answers["server_side"] is False
