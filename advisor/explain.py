"""Explanations beyond the recommendation: why, why not, what if, runner-up, next steps, record.

Everything is derived from the catalogue and the recorded answers (the public
state contract plus the answer log), so it works the same in every channel.
These functions never change the state; committing a "what if" goes through
the ordinary answer path in :mod:`advisor.dialogue`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from advisor import replies
from advisor.answers import ASSUMED, AnswerRecord
from advisor.catalogue import Catalogue, Question, Toolkit
from advisor.catalogue_answers import shared
from advisor.decision_list import Answers, DecisionList, Outcome
from advisor.dialogue import State
from advisor.messages import Button, Reply, intent_payload

YES_NO = {True: "yes", False: "no"}


def _said(record: Optional[AnswerRecord]) -> str:
    """How the answer arrived, in the person's words where there are some."""
    if record is None:
        return ""
    if record.how == ASSUMED:
        return " (you weren't sure, so I counted it as a no)"
    quote = replies.quote(record)
    how = "you volunteered it" if record.how == "volunteered" else "you answered when I asked"
    return f" ({how}: {quote})" if quote else f" ({how})"


def _topic(catalogue: Catalogue, question_id: str) -> str:
    return catalogue.question(question_id).topic


# -- why ----------------------------------------------------------------------------


def path_lines(catalogue: Catalogue, state: State) -> list[str]:
    """One line per question the decision list walked, in order."""
    lines = []
    for question in DecisionList.from_catalogue(catalogue).questions:
        answer = state.answers.get(question.id)
        toolkit = catalogue.toolkit(question.leads_to).name
        record = state.records.get(question.id)
        if answer is None:
            lines.append(f"• {question.topic}: not asked yet")
            break
        if answer:
            lines.append(f"• yes to {question.topic}{_said(record)} → {toolkit}, the first yes, wins")
            break
        lines.append(f"• no to {question.topic}{_said(record)} → rules out {toolkit}")
    return lines


def why(catalogue: Catalogue, state: State) -> Reply:
    reply = Reply()
    decisions = DecisionList.from_catalogue(catalogue)
    outcome = decisions.outcome(state.answers)
    if outcome is None:
        reply.say(
            "I haven't recommended anything yet. So far:\n"
            + "\n".join(path_lines(catalogue, state))
            + f"\nAt most {decisions.remaining(state.answers)} more questions to go."
        )
        return reply
    toolkit = catalogue.toolkit(outcome.toolkit_id)
    intro = f'I recommended {toolkit.name} by walking the guide\'s "How to pick" questions in order; the first yes decides:'
    lines = path_lines(catalogue, state)
    if outcome.deciding is None:
        lines.append(f"• every answer was no → stay a {toolkit.name}. {catalogue.fallback.would_change}")
    reply.say(intro + "\n" + "\n".join(lines))
    return reply


# -- why not ---------------------------------------------------------------------------


def _needed_for(catalogue: Catalogue, answers: Answers, target: Question) -> list[str]:
    """Answers that would lead to ``target``: no to every earlier yes, yes to it."""
    needed = []
    for question in catalogue.questions:
        if question.id == target.id:
            if answers.get(question.id) is not True:
                needed.append(f"yes to {question.topic}")
            break
        if answers.get(question.id) is not False:
            needed.append(f"no to {question.topic}")
    return needed


def why_not(catalogue: Catalogue, state: State, toolkit: Toolkit) -> Reply:
    reply = Reply()
    decisions = DecisionList.from_catalogue(catalogue)
    outcome = decisions.outcome(state.answers)
    if outcome is not None and outcome.toolkit_id == toolkit.id:
        reply.say(f"{toolkit.name} is my recommendation. " + _reason_for(catalogue, state, outcome))
        return reply
    question = catalogue.question_for(toolkit.id)
    if question is None:  # the starting point: reached only when every answer is no
        yeses = [q for q in catalogue.questions if state.answers.get(q.id)]
        if yeses:
            first = yeses[0]
            reply.say(
                f"Staying a {toolkit.name} is what the guide suggests when none of the alternatives pulls you. "
                f"You said yes to {first.topic}{_said(state.records.get(first.id))}, so that path won. "
                f"To stay, you'd need a no to {replies.join_words([q.topic for q in yeses])}."
            )
        else:
            reply.say(f"It still could be: staying a {toolkit.name} is where every no leads, and I haven't heard a yes yet.")
        return reply
    answer = state.answers.get(question.id)
    record = state.records.get(question.id)
    earlier_yes = next((q for q in catalogue.questions[: catalogue.questions.index(question)] if state.answers.get(q.id)), None)
    needed = replies.join_words(_needed_for(catalogue, state.answers, question))
    if answer is False:
        text = (
            f"You said no to {question.topic}{_said(record)}, and that is the question "
            f"that leads to {toolkit.name}, so it was ruled out."
        )
    elif earlier_yes is not None:
        lead = f"You said yes to {question.topic} too, but" if answer else "I never needed to ask about " + question.topic + ":"
        text = (
            f"{lead} the guide asks about {earlier_yes.topic} first, and your yes there"
            f"{_said(state.records.get(earlier_yes.id))} won before {toolkit.name}'s question came up."
        )
    else:
        text = f"{toolkit.name} is still in the running: I haven't asked about {question.topic} yet."
        reply.say(text)
        return reply
    reply.say(f"{text} What would have led to {toolkit.name}: {needed}.")
    return reply


def _reason_for(catalogue: Catalogue, state: State, outcome: Outcome) -> str:
    why_text = replies.rationale(outcome, state.records, catalogue)
    return f"Why: {why_text}." if why_text else ""


# -- what if ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WhatIf:
    changes: dict[str, bool]
    reply: Reply


def what_if(catalogue: Catalogue, state: State, changes: Mapping[str, bool]) -> WhatIf:
    """Explore changed answers without recording them; offer to make them real."""
    reply = Reply()
    changes = {q: v for q, v in changes.items() if q in catalogue.question_ids}
    if not changes:
        reply.say(
            "Tell me which answer to imagine differently, for example "
            '"what if I said yes to data pipelines?" or "what if I didn\'t like APIs?".'
        )
        return WhatIf({}, reply)
    decisions = DecisionList.from_catalogue(catalogue)
    before = decisions.outcome(state.answers)
    answers = {**state.answers, **changes}
    after = decisions.outcome(answers)
    described = replies.join_words([f"{YES_NO[v]} to {_topic(catalogue, q)}" for q, v in changes.items()])
    if after is None:
        question = decisions.next_question(answers)
        text = f"If you said {described}, I couldn't decide yet: I'd still need to ask about {question.topic}."
    elif before is not None and before.toolkit_id == after.toolkit_id:
        text = f"If you said {described}, my recommendation would stay {catalogue.toolkit(after.toolkit_id).name}."
    else:
        now = f" instead of {catalogue.toolkit(before.toolkit_id).name}" if before is not None else ""
        decided_by = (
            f", because your yes to {after.deciding.topic} would come first"
            if after.deciding
            else ", because every answer would be no"
        )
        text = f"If you said {described}, I'd recommend {catalogue.toolkit(after.toolkit_id).name}{now}{decided_by}."
    text += " Your recorded answers are unchanged - shall I make that your answer?"
    reply.say(text, (Button("Yes, change it", intent_payload("affirm")), Button("No, keep my answers", intent_payload("deny"))))
    return WhatIf(dict(changes), reply)


# -- runner-up -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RunnerUp:
    toolkit: Optional[Toolkit]
    open_question: Optional[Question]  # asking it could confirm the runner-up
    reply: Reply


def runner_up(catalogue: Catalogue, state: State) -> RunnerUp:
    reply = Reply()
    decisions = DecisionList.from_catalogue(catalogue)
    outcome = decisions.outcome(state.answers)
    if outcome is None:
        reply.say("Let's finish the questions first - then I can tell you the best fit and the runner-up.")
        return RunnerUp(None, None, reply)
    best = catalogue.toolkit(outcome.toolkit_id)
    after = catalogue.questions[catalogue.questions.index(outcome.deciding) + 1 :] if outcome.deciding else ()
    also_yes = next((q for q in after if state.answers.get(q.id) is True), None)
    open_question = next((q for q in after if state.answers.get(q.id) is None), None)
    if also_yes is not None:
        second = catalogue.toolkit(also_yes.leads_to)
        text = (
            f"Runner-up: {second.name}. You said yes to {also_yes.topic}{_said(state.records.get(also_yes.id))} too; "
            f"it only lost because the guide asks about {outcome.deciding.topic} first."
        )
        open_question = None
    elif open_question is not None:
        second = catalogue.toolkit(open_question.leads_to)
        text = (
            f"Possibly {second.name}: I didn't need to ask you about {open_question.topic}, so it's still open. "
            f"Do you enjoy {open_question.topic}? (yes / no)"
        )
    else:
        second = _closest(catalogue, best)
        text = (
            f"None of the other alternatives got a yes from you. The closest to {best.name} in skills and tools is {second.name}."
        )
    skills, tools = shared(best, second)
    common = skills + [catalogue.tool(t).name for t in tools if catalogue.tool(t).name not in skills]
    closeness = (
        f" It shares {', '.join(common)} with {best.name}." if common else f" It shares little with {best.name}: a bigger jump."
    )
    buttons: tuple[Button, ...] = ()
    if open_question is not None:
        buttons = (
            Button("Yes", intent_payload("affirm")),
            Button("No", intent_payload("deny")),
            Button(f"Compare with {best.name}", intent_payload("compare_toolkits", toolkit=second.id)),
        )
    else:
        buttons = (Button(f"Compare with {best.name}", intent_payload("compare_toolkits", toolkit=second.id)),)
    reply.say(text + closeness, buttons)
    return RunnerUp(second, open_question, reply)


def _closest(catalogue: Catalogue, best: Toolkit) -> Toolkit:
    def overlap(other: Toolkit) -> int:
        skills, tools = shared(best, other)
        return len(skills) + len(tools)

    candidates = [t for t in catalogue.alternatives() if t.id != best.id]
    return max(candidates, key=lambda t: (overlap(t), -(t.rank or 0)))


# -- next steps ------------------------------------------------------------------------------


def next_steps(catalogue: Catalogue, toolkit: Toolkit) -> Reply:
    added = toolkit.added
    lines = [f"Next steps towards {toolkit.name} {replies.ADDED_NOTE}:"]
    if added.first_project:
        lines.append(f"A first project you could finish in a weekend: {added.first_project}")
    if added.carries_over:
        lines.append(f"What carries over from computer vision: {', '.join(added.carries_over)}.")
    if added.learn_first:
        lines.append("Learn first:\n" + replies.bullet_list(added.learn_first))
    if added.resources:
        lines.append("Resources:\n" + replies.bullet_list(replies.link(r.title, r.url) for r in added.resources))
    if toolkit.featured is not None:
        lines.append(f"From the guide: {toolkit.featured.caption} ({catalogue.tool(toolkit.featured.tool).url})")
    reply = Reply()
    reply.say("\n".join(lines))
    return reply


# -- decision record ------------------------------------------------------------------------------


def decision_record(catalogue: Catalogue, state: State, today: dt.date) -> dict[str, Any]:
    """The record as data: what a tool would store."""
    decisions = DecisionList.from_catalogue(catalogue)
    outcome = decisions.outcome(state.answers)
    answers = []
    for question in catalogue.questions:
        value = state.answers.get(question.id)
        if value is None:
            continue
        record = state.records.get(question.id)
        answers.append(
            {
                "question": question.id,
                "wording": question.wording,
                "answer": value,
                "how": record.how if record else "asked",
                "said": record.said if record else "",
            }
        )
    record: dict[str, Any] = {
        "type": "decision_record",
        "date": today.isoformat(),
        "catalogue_version": catalogue.version,
        "answers": answers,
        "path": [line.lstrip("• ") for line in path_lines(catalogue, state)],
        "recommendation": outcome.toolkit_id if outcome else None,
        "runner_up": None,
        "next_steps": None,
    }
    if outcome is not None:
        best = catalogue.toolkit(outcome.toolkit_id)
        second = runner_up(catalogue, state).toolkit
        record["runner_up"] = second.id if second else None
        record["next_steps"] = {
            "first_project": best.added.first_project,
            "learn_first": list(best.added.learn_first),
            "resources": [{"title": r.title, "url": r.url} for r in best.added.resources],
        }
    return record


def record_markdown(catalogue: Catalogue, record: Mapping[str, Any]) -> str:
    """The record as Markdown (what the web page downloads)."""
    lines = [f"# Toolkit Advisor - decision record ({record['date']})", ""]
    if record["recommendation"]:
        lines.append(f"**Recommendation:** {catalogue.toolkit(record['recommendation']).name}")
    else:
        lines.append("**Recommendation:** not yet - some questions are still open")
    if record["runner_up"]:
        lines.append(f"**Runner-up:** {catalogue.toolkit(record['runner_up']).name}")
    lines += ["", "## Your answers"]
    for answer in record["answers"]:
        said = f' - "{answer["said"]}"' if answer["said"] and not answer["said"].startswith("/") else ""
        lines.append(f"- {answer['wording']} **{YES_NO[answer['answer']]}** ({answer['how']}){said}")
    lines += ["", "## How the guide's decision list got there"]
    lines += [f"- {step}" for step in record["path"]]
    steps = record.get("next_steps")
    if steps:
        lines += ["", f"## Next steps {replies.ADDED_NOTE}", f"- First project: {steps['first_project']}"]
        lines += [f"- Learn: {item}" for item in steps["learn_first"]]
        lines += [f"- [{r['title']}]({r['url']})" for r in steps["resources"]]
    lines += ["", f"_Catalogue version {record['catalogue_version']}_"]
    return "\n".join(lines)


def summary(catalogue: Catalogue, state: State, today: dt.date) -> Reply:
    record = decision_record(catalogue, state, today)
    reply = Reply()
    reply.say(record_markdown(catalogue, record), custom={**record, "markdown": record_markdown(catalogue, record)})
    return reply
