"""Recorded answers and where each came from.

The public state contract keeps one boolean slot per question. To explain a
recommendation in the person's own words the assistant also keeps, per
question, *how* the answer arrived (asked, volunteered, or assumed after two
"not sure"s) and *what the person said*.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterable, Mapping, Optional

ASKED, VOLUNTEERED, ASSUMED = "asked", "volunteered", "assumed"
HOW = (ASKED, VOLUNTEERED, ASSUMED)


@dataclass(frozen=True)
class AnswerRecord:
    question_id: str
    value: bool
    how: str
    said: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Optional[AnswerRecord]:
        """A record from slot data; None for anything malformed (never trust slot contents blindly)."""
        try:
            question_id, value, how = data["question_id"], data["value"], data["how"]
        except (KeyError, TypeError):
            return None
        if not isinstance(question_id, str) or not isinstance(value, bool) or how not in HOW:
            return None
        said = data.get("said", "")
        return cls(question_id, value, how, said if isinstance(said, str) else "")


def records_by_question(log: Optional[Iterable[Any]]) -> dict[str, AnswerRecord]:
    """The latest record per question from the ``answer_log`` slot."""
    records: dict[str, AnswerRecord] = {}
    for item in log or []:
        record = AnswerRecord.from_dict(item) if isinstance(item, Mapping) else None
        if record is not None:
            records[record.question_id] = record
    return records
