"""The "How to pick" decision list: questions in order, the first "yes" wins.

Answers are a mapping ``question id -> True / False / None`` (None or absent:
not known yet). Everything here is pure: given answers, say which question is
needed next, where the list ends, and how it got there. The conversation
layer records answers; this module never asks twice because it only ever
returns a question whose answer is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

from advisor.catalogue import Catalogue, Question

Answers = Mapping[str, Optional[bool]]


@dataclass(frozen=True)
class Outcome:
    """Where the decision list ends for a set of answers.

    ``deciding`` is the question whose "yes" won (None when every answer was
    "no" and the fallback applies); ``ruled_out`` are the questions answered
    "no" before it, in order.
    """

    toolkit_id: str
    deciding: Optional[Question]
    ruled_out: tuple[Question, ...]


class DecisionList:
    def __init__(self, questions: Sequence[Question], fallback_toolkit: str) -> None:
        self.questions = tuple(questions)
        self.fallback_toolkit = fallback_toolkit

    @classmethod
    def from_catalogue(cls, catalogue: Catalogue) -> DecisionList:
        return cls(catalogue.questions, catalogue.fallback.toolkit)

    def next_question(self, answers: Answers) -> Optional[Question]:
        """The first question still needed, or None once a leaf is reached."""
        for question in self.questions:
            answer = answers.get(question.id)
            if answer is True:
                return None
            if answer is None:
                return question
        return None

    def outcome(self, answers: Answers) -> Optional[Outcome]:
        """The leaf the answers reach, or None while a needed answer is missing."""
        ruled_out: list[Question] = []
        for question in self.questions:
            answer = answers.get(question.id)
            if answer is True:
                return Outcome(question.leads_to, question, tuple(ruled_out))
            if answer is None:
                return None
            ruled_out.append(question)
        return Outcome(self.fallback_toolkit, None, tuple(ruled_out))

    def remaining(self, answers: Answers) -> int:
        """How many questions could still be asked at most (for "n more to go")."""
        if self.outcome(answers) is not None:
            return 0
        count = 0
        for question in self.questions:
            if answers.get(question.id) is None:
                count += 1
            elif answers.get(question.id) is True:
                break
        return count

    def is_needed(self, question_id: str, answers: Answers) -> bool:
        """Whether the answer to ``question_id`` can still change the outcome."""
        for question in self.questions:
            if question.id == question_id:
                return True
            if answers.get(question.id) is True:
                return False
        return False
