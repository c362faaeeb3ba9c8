"""Pick the conversation up again after an aside (a catalogue question, help, small talk)."""

from __future__ import annotations

from advisor import replies
from advisor.catalogue import Catalogue
from advisor.catalogue_answers import back_to_question
from advisor.decision_list import DecisionList
from advisor.dialogue import State
from advisor.messages import Reply


def resume(catalogue: Catalogue, state: State) -> Reply:
    """The pending question again (with its buttons), or nothing if none is pending."""
    reply = Reply()
    if state.current_question in catalogue.question_ids:
        decisions = DecisionList.from_catalogue(catalogue)
        question = catalogue.question(state.current_question)
        reply.messages.append(back_to_question(replies.question_message(question, decisions.remaining(state.answers))))
    return reply
