"""One turn of the decision conversation, as a pure function.

``advance(catalogue, state, turn)`` takes what is recorded so far and what
NLU understood of the latest message, records every answer it can find
(answers to the pending question and answers volunteered for any other
question), then asks the next needed question or gives the recommendation.
It never asks a question whose answer is recorded, because the next
question always comes from :meth:`DecisionList.next_question`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Optional

from advisor import replies
from advisor.answers import ASKED, ASSUMED, VOLUNTEERED, AnswerRecord
from advisor.catalogue import Catalogue, Question
from advisor.decision_list import DecisionList
from advisor.messages import Reply
from advisor.preferences import NO, UNSURE, YES, Reading

# Intents whose messages may carry answers. Questions about the catalogue,
# out-of-scope messages and small talk never record anything; a greeting may
# carry preferences ("hi, I love data pipelines") but never a bare yes or no.
ANSWER_INTENTS = frozenset({"affirm", "deny", "unsure", "share_preference", "greet"})
PREFERENCE_INTENTS = frozenset({"affirm", "deny", "share_preference", "greet"})
STANCE_INTENTS = frozenset({"affirm", "deny", "unsure", "share_preference"})
# A bare yes or no needs a confident intent: below MIN_CONFIDENCE nothing is
# taken as an answer ("nice to meet you"), and without an answer word in the
# message the classifier alone must reach MIN_CONFIDENCE_WITHOUT_CUE ("do
# laundry" is not a "yes"). Buttons are always clear.
MIN_CONFIDENCE = 0.5
MIN_CONFIDENCE_WITHOUT_CUE = 0.7
CONFIDENT = 0.8


@dataclass(frozen=True)
class State:
    answers: dict[str, Optional[bool]] = field(default_factory=dict)
    current_question: Optional[str] = None
    recommendation: Optional[str] = None
    records: dict[str, AnswerRecord] = field(default_factory=dict)  # in the order answers arrived
    explained: Optional[str] = None  # question explained after a "not sure"
    # What the last bot turn offered, settled by a plain yes or no next turn:
    # {"kind": "what_if", "changes": {question: bool}, "said": ...} or
    # {"kind": "answer", "question": id} (an open question the runner-up raised).
    offer: Optional[dict[str, Any]] = None

    @property
    def is_fresh(self) -> bool:
        return not any(v is not None for v in self.answers.values()) and not self.current_question and not self.recommendation


@dataclass(frozen=True)
class Turn:
    intent: str
    text: str = ""
    reading: Reading = field(default_factory=Reading)
    button_question: Optional[str] = None  # the question a clicked button belonged to
    confidence: float = 1.0  # the intent classifier's confidence


@dataclass(frozen=True)
class Result:
    state: State
    reply: Reply
    changed: tuple[str, ...] = ()  # questions whose recorded answer changed


def _stance(turn: Turn) -> Optional[str]:
    """Yes / no / unsure for the pending question, from the words or, failing that, the intent."""
    if turn.intent not in STANCE_INTENTS:
        return None
    if turn.button_question:
        return {"affirm": YES, "deny": NO, "unsure": UNSURE}.get(turn.intent)
    if turn.confidence < MIN_CONFIDENCE:
        return None
    if turn.intent == "unsure" and turn.confidence >= CONFIDENT and turn.reading.stance != UNSURE:
        return UNSURE  # "I've never tried it so I can't really tell": not a "no"
    if turn.reading.stance in (YES, NO, UNSURE):
        return turn.reading.stance
    if turn.confidence < MIN_CONFIDENCE_WITHOUT_CUE:
        return None
    return {"affirm": YES, "deny": NO, "unsure": UNSURE}.get(turn.intent)


def _collect(state: State, turn: Turn, pending: Optional[Question]) -> tuple[dict[str, AnswerRecord], bool]:
    """Answers found in the turn, and whether the person is unsure about the pending question."""
    updates: dict[str, AnswerRecord] = {}
    stance = _stance(turn)
    # A bare "no," opening the message or a concluding "so no" (the reader's answer_word).
    plain_answer = "answer_word" in turn.reading.signals and stance in (YES, NO)
    if turn.intent in PREFERENCE_INTENTS:
        for pref in turn.reading.stated:
            if pref.value is None:
                continue
            if (
                pending is not None
                and pref.question_id == pending.id
                and stance in (YES, NO)
                and (pref.weak or (plain_answer and pref.value != (stance == YES)))
            ):
                # "no, I'd miss coding": the plain answer beats an indirect reading; "yes,
                # shipping models to prod, not just images": an answer word beats a misreading.
                continue
            earlier = state.answers.get(pref.question_id)
            if (
                pending is not None
                and pref.question_id != pending.id
                and earlier is not None
                and earlier != pref.value
                and "revision" not in turn.reading.signals
            ):
                # A passing remark while answering another question ("... with
                # pipelines, Docker and k8s") does not overturn an earlier answer;
                # "actually, ..." does.
                continue
            how = ASKED if pending is not None and pref.question_id == pending.id else VOLUNTEERED
            updates[pref.question_id] = AnswerRecord(pref.question_id, pref.value, how, pref.said)
    unsure = False
    if pending is not None and pending.id not in updates:
        pref = turn.reading.for_question(pending.id)
        if pref is not None and pref.value is None and not plain_answer:
            unsure = True  # (but "yes, though deploying models can be a pain" is a yes)
        elif stance in (YES, NO):
            said = turn.reading.stance_said or turn.text
            updates[pending.id] = AnswerRecord(pending.id, stance == YES, ASKED, said)
        elif stance == UNSURE:
            unsure = True
    return updates, unsure


def _implied(catalogue: Catalogue, state: State, updates: dict[str, AnswerRecord]) -> dict[str, AnswerRecord]:
    """A "no" to a part of a combined question is a "no" to the whole, when that is still open.

    Full stack is front end and back end: after "I'd like to stay away from the
    backend side entirely" asking "do you want to build both?" would ask what
    the person has already said.
    """
    implied: dict[str, AnswerRecord] = {}
    for question in catalogue.questions:
        if not question.combines or question.id in updates or state.answers.get(question.id) is not None:
            continue
        refusal = next((updates[p] for p in question.combines if p in updates and updates[p].value is False), None)
        if refusal is not None:
            implied[question.id] = AnswerRecord(question.id, False, VOLUNTEERED, refusal.said)
    return implied


def advance(catalogue: Catalogue, state: State, turn: Turn) -> Result:
    """Record what the turn answers and say what comes next."""
    decisions = DecisionList.from_catalogue(catalogue)
    offer, state = state.offer, replace(state, offer=None)  # an offer lasts one turn
    pending = _question(catalogue, state.current_question)
    reply = Reply()

    if turn.button_question and (pending is None or turn.button_question != pending.id):
        reply.say(replies.stale_button(pending))
        return Result(settle(decisions, state), _continue(catalogue, decisions, state, reply))

    if offer and not turn.reading.stated and not turn.button_question:
        settled = _settle_offer(catalogue, state, turn, offer)
        if settled is not None:
            return record(catalogue, state, settled, turn.intent)

    updates, unsure = _collect(state, turn, pending)
    updates.update(_implied(catalogue, state, updates))
    if unsure and not updates and pending is not None:
        if state.explained != pending.id:
            reply.say(replies.explanation(pending))
            reply.messages.append(replies.question_message(pending, decisions.remaining(state.answers)))
            return Result(replace(state, explained=pending.id), reply)
        updates[pending.id] = AnswerRecord(pending.id, False, ASSUMED, turn.text)
        reply.say(replies.assumed_no(pending))

    if not updates:
        if state.is_fresh or turn.intent == "greet":
            reply.say(replies.introduction(catalogue) if state.is_fresh else "Welcome back! Let's carry on.")
        elif pending is not None or (turn.intent in ANSWER_INTENTS and state.recommendation is None):
            # After a recommendation a bare "ok" or "no" needs no apology: the
            # follow-up options are shown again below.
            reply.say(replies.not_understood(pending))
        return Result(settle(decisions, state), _continue(catalogue, decisions, state, reply))
    return record(catalogue, state, updates, turn.intent, reply)


def _settle_offer(catalogue: Catalogue, state: State, turn: Turn, offer: dict[str, Any]) -> Optional[dict[str, AnswerRecord]]:
    """Answers a plain yes to the last offer makes real; {} for a no; None if the turn is not a yes or no."""
    stance = _stance(turn)
    if stance not in (YES, NO):
        return None
    if offer.get("kind") == "what_if":
        if stance == NO:
            return {}
        said = str(offer.get("said", ""))
        changes = {q: v for q, v in (offer.get("changes") or {}).items() if q in catalogue.question_ids and isinstance(v, bool)}
        return {q: AnswerRecord(q, v, VOLUNTEERED, said) for q, v in changes.items()}
    question_id = offer.get("question")
    if offer.get("kind") == "answer" and question_id in catalogue.question_ids:
        return {question_id: AnswerRecord(question_id, stance == YES, ASKED, turn.reading.stance_said or turn.text)}
    return None


def record(
    catalogue: Catalogue, state: State, updates: dict[str, AnswerRecord], intent: str = "", reply: Optional[Reply] = None
) -> Result:
    """Record ``updates``, acknowledge them and continue: next question, or (a changed) recommendation."""
    decisions = DecisionList.from_catalogue(catalogue)
    reply = reply or Reply()
    if not updates:
        reply.say("OK, I've kept your answers as they were.")
        return Result(settle(decisions, state), _continue(catalogue, decisions, state, reply))
    changed = tuple(q for q, r in updates.items() if state.answers.get(q) is not None and state.answers.get(q) != r.value)
    answers = {**state.answers, **{q: r.value for q, r in updates.items()}}
    # Re-recorded answers move to the end: the log keeps the order answers arrived.
    records = {q: r for q, r in state.records.items() if q not in updates}
    records.update(updates)
    if state.is_fresh and intent == "greet":
        reply.say(replies.introduction(catalogue))
    ack = replies.acknowledgement([r for r in updates.values() if r.how != ASSUMED], catalogue)
    if ack:
        reply.say(ack)
    new_state = replace(state, answers=answers, records=records)
    reply = _continue(catalogue, decisions, new_state, reply, previous=state)
    return Result(settle(decisions, new_state), reply, changed)


def undo(catalogue: Catalogue, state: State) -> Result:
    """Forget the most recent answer ("go back") and carry on from there."""
    decisions = DecisionList.from_catalogue(catalogue)
    reply = Reply()
    answered = [q for q in state.records if state.answers.get(q) is not None]
    answered += [q for q in catalogue.question_ids if state.answers.get(q) is not None and q not in answered]
    if not answered:
        reply.say("There's no answer to undo yet.")
        return Result(settle(decisions, state), _continue(catalogue, decisions, state, reply))
    last = answered[-1]
    reply.say(f"OK, I've taken back your answer about {catalogue.question(last).topic}.")
    answers = {**state.answers, last: None}
    records = {q: r for q, r in state.records.items() if q != last}
    new_state = replace(state, answers=answers, records=records, offer=None, explained=None)
    reply = _continue(catalogue, decisions, new_state, reply, previous=state)
    return Result(settle(decisions, new_state), reply, (last,))


def _question(catalogue: Catalogue, question_id: Optional[str]) -> Optional[Question]:
    if question_id in catalogue.question_ids:
        return catalogue.question(question_id)
    return None


def _continue(
    catalogue: Catalogue, decisions: DecisionList, state: State, reply: Reply, previous: Optional[State] = None
) -> Reply:
    """Ask the next needed question or give (or confirm) the recommendation."""
    outcome = decisions.outcome(state.answers)
    if outcome is not None:
        before = previous.recommendation if previous is not None else state.recommendation
        if previous is None and state.recommendation == outcome.toolkit_id:
            reply.messages.append(replies.already_recommended(outcome.toolkit_id, catalogue))
            return reply
        moved = replies.changed_recommendation(before, outcome, catalogue)
        if moved:
            reply.say(moved)
        elif before == outcome.toolkit_id:
            reply.say(f"That doesn't change my recommendation: it's still {catalogue.toolkit(before).name}.")
            reply.messages.append(replies.already_recommended(before, catalogue))
            return reply
        reply.extend(replies.recommendation(outcome, state.records, catalogue))
        return reply
    question = decisions.next_question(state.answers)
    assert question is not None  # an undecided list always has a next question
    if previous is not None and previous.recommendation is not None:
        reply.say(
            f"That reopens the decision (it was {catalogue.toolkit(previous.recommendation).name}), so I need one more answer."
        )
    first = not any(v is not None for v in state.answers.values())
    reply.messages.append(replies.question_message(question, decisions.remaining(state.answers), first=first))
    return reply


def settle(decisions: DecisionList, state: State) -> State:
    """Pending question and recommendation as the recorded answers imply."""
    outcome = decisions.outcome(state.answers)
    if outcome is not None:
        return replace(state, current_question=None, recommendation=outcome.toolkit_id, explained=None)
    question = decisions.next_question(state.answers)
    question_id = question.id if question is not None else None
    explained = state.explained if state.explained == question_id else None
    return replace(state, current_question=question_id, recommendation=None, explained=explained)
