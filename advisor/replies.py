"""Compose what the bot says, from the catalogue and the recorded answers.

Every sentence about a toolkit is built from catalogue fields, so editing the
catalogue changes the replies. Facts from the catalogue's ``added`` section
are labelled "(not from the source guide)".
"""

from __future__ import annotations

from typing import Iterable, Optional, Sequence

from advisor.answers import AnswerRecord
from advisor.catalogue import Catalogue, Question, Tool, Toolkit
from advisor.decision_list import Outcome
from advisor.messages import Button, Message, Reply, intent_payload

ADDED_NOTE = "(not from the source guide)"

YES_TITLE, NO_TITLE, UNSURE_TITLE = "Yes", "No", "Not sure"


# -- small helpers ---------------------------------------------------------------


def link(title: str, url: str) -> str:
    """A Markdown link; channels render or convert it."""
    return f"[{title}]({url})"


def tool_links(tools: Iterable[Tool]) -> str:
    return ", ".join(link(t.name, t.url) for t in tools)


def join_words(items: Sequence[str], last: str = "and") -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text and not text[:2].isupper() else text


def bullet_list(items: Iterable[str]) -> str:
    return "\n".join(f"• {item}" for item in items)


def answer_buttons(question: Question) -> tuple[Button, ...]:
    """Yes / No / Not sure, tagged with the question so stale clicks are caught."""
    return (
        Button(YES_TITLE, intent_payload("affirm", question=question.id)),
        Button(NO_TITLE, intent_payload("deny", question=question.id)),
        Button(UNSURE_TITLE, intent_payload("unsure", question=question.id)),
    )


def follow_up_buttons() -> tuple[Button, ...]:
    """What to do after a recommendation (Slack shows at most five buttons)."""
    return (
        Button("Why this one?", intent_payload("ask_why")),
        Button("What else would suit me?", intent_payload("ask_runner_up")),
        Button("Next steps", intent_payload("ask_next_steps")),
        Button("All the options", intent_payload("list_toolkits")),
        Button("Start over", intent_payload("start_over")),
    )


# -- the decision conversation ------------------------------------------------------


def introduction(catalogue: Catalogue) -> str:
    names = join_words([t.name for t in catalogue.alternatives()], "or")
    return (
        "Hi! I'm Toolkit Advisor. I help computer vision engineers decide where to go next: "
        f"{names} - or staying with the {catalogue.starting_point().name} toolkit. "
        f"I'll ask up to {len(catalogue.questions)} short yes/no questions (tell me anything you already know "
        "you love or hate, and I'll skip what I don't need), then recommend a toolkit and explain why. "
        "Any time, you can ask me to describe or compare toolkits, list them all, or start over."
    )


def question_message(question: Question, remaining: int, first: bool = False) -> Message:
    lead = "First question: " if first else ""
    more = ""
    if not first and remaining > 1:
        more = f" (at most {remaining - 1} more after this)"
    return Message(f"{lead}{question.wording}{more}", answer_buttons(question))


def explanation(question: Question) -> str:
    return f"Let me put it another way. {question.explanation}"


def acknowledgement(records: Sequence[AnswerRecord], catalogue: Catalogue) -> str:
    """One short line saying what was understood."""
    likes = [catalogue.question(r.question_id).topic for r in records if r.value]
    dislikes = [catalogue.question(r.question_id).topic for r in records if not r.value]
    parts = []
    if likes:
        parts.append(f"you're keen on {join_words(likes)}")
    if dislikes:
        parts.append(f"{join_words(dislikes, 'or')} {'is' if len(dislikes) == 1 else 'are'} not for you")
    return f"Got it: {'; '.join(parts)}." if parts else ""


def assumed_no(question: Question) -> str:
    return (
        f'No problem - I\'ll count {question.topic} as a "no" for now so we can move on. '
        "If it starts to appeal, just tell me and I'll re-walk the list."
    )


def stale_button(current: Optional[Question]) -> str:
    if current is None:
        return "That button belonged to an earlier question, so I left your answers as they are."
    return "That button belonged to an earlier question, so I left your answers as they are. Here's where we are:"


def not_understood(question: Optional[Question]) -> str:
    if question is None:
        return "Sorry, I didn't catch that."
    return "Sorry, I didn't catch that - is that a yes or a no?"


def quote(record: AnswerRecord) -> str:
    """The person's words, when they say more than a bare "yes" (or a button payload)."""
    said = " ".join(record.said.split())
    if len(said.split()) < 3 or said.startswith("/"):
        return ""
    if len(said) > 90:
        said = said[:87].rstrip() + "..."
    return f'"{said}"'


def _answer_phrase(record: AnswerRecord, catalogue: Catalogue) -> str:
    topic = catalogue.question(record.question_id).topic
    verb = "yes" if record.value else "no"
    quoted = quote(record)
    if record.how == "assumed":
        return f"you weren't sure about {topic}, so I counted it as a no"
    how = "you told me" if record.how == "volunteered" else "you answered"
    said = f" ({quoted})" if quoted else ""
    return f"{how} {verb} to {topic}{said}"


def rationale(outcome: Outcome, records: dict[str, AnswerRecord], catalogue: Catalogue) -> str:
    """Why the decision list ended where it did, in the person's own words."""
    parts = []
    if outcome.deciding is not None:
        record = records.get(outcome.deciding.id)
        if record is not None:
            parts.append(_answer_phrase(record, catalogue))
    ruled = [records[q.id] for q in outcome.ruled_out if q.id in records]
    if ruled:
        names = join_words([catalogue.toolkit(catalogue.question(r.question_id).leads_to).name for r in ruled])
        parts.append(
            f"{'before that, ' if parts else ''}{join_words([_answer_phrase(r, catalogue) for r in ruled])}, "
            f"which ruled out {names}"
        )
    return "; ".join(parts)


def recommendation(outcome: Outcome, records: dict[str, AnswerRecord], catalogue: Catalogue) -> Reply:
    toolkit = catalogue.toolkit(outcome.toolkit_id)
    reply = Reply()
    why = rationale(outcome, records, catalogue)
    if outcome.deciding is None:
        head = f"My recommendation: stay a **{toolkit.name}** and deepen that toolkit. {catalogue.fallback.summary} "
        if why:
            head += f"Why: {why}. "
        head += catalogue.fallback.would_change
    else:
        head = f"My recommendation: **{toolkit.name}** - {lower_first(toolkit.summary)}"
        if why:
            head += f"\nWhy: {why}."
        head += f"\nThe guide says: {outcome.deciding.if_yes}"
    reply.say(head)
    reply.say(toolkit_profile(toolkit, catalogue), follow_up_buttons())
    return reply


def toolkit_profile(toolkit: Toolkit, catalogue: Catalogue) -> str:
    """Focus, skills, output, relation to CV, who it suits and tools with links."""
    lines = [
        f"Primary focus: {toolkit.primary_focus}",
        f"Key technical skills: {', '.join(toolkit.key_skills)}",
        f"Typical output: {', '.join(toolkit.typical_output)}",
        f"Adjacent to computer vision: {toolkit.adjacent_to_cv}",
    ]
    if toolkit.added.carries_over:
        lines.append(f"What carries over from your CV work {ADDED_NOTE}: {', '.join(toolkit.added.carries_over)}")
    suits = toolkit.best_for or toolkit.added.best_for
    if suits:
        note = "" if toolkit.best_for else f" {ADDED_NOTE}"
        lines.append(f"Best for{note}: {'; '.join(lower_first(s) for s in suits)}")
    lines.append(f"Tools: {tool_links(catalogue.tools_of(toolkit))}")
    return "\n".join(lines)


def changed_recommendation(before: Optional[str], outcome: Outcome, catalogue: Catalogue) -> str:
    """ "Your recommendation moves from X to Y because ..." (empty when nothing moved)."""
    if before is None or before == outcome.toolkit_id:
        return ""
    because = (
        f"your yes to {outcome.deciding.topic} now comes first in the guide's order"
        if outcome.deciding is not None
        else "every answer is now a no"
    )
    return (
        f"That changes things: your recommendation moves from {catalogue.toolkit(before).name} "
        f"to {catalogue.toolkit(outcome.toolkit_id).name}, because {because}."
    )


def already_recommended(toolkit_id: str, catalogue: Catalogue) -> Message:
    name = catalogue.toolkit(toolkit_id).name
    return Message(
        f"We've been through the questions and I recommended {name}. "
        "Ask me why, what else would suit you, about next steps, about any toolkit - or start over.",
        follow_up_buttons(),
    )
