"""Answers to questions about the catalogue: describe, compare, list.

These can be asked at any point of the conversation; the caller appends the
pending question afterwards so nothing is lost.
"""

from __future__ import annotations

import re
from typing import Optional, Sequence

from advisor.catalogue import Catalogue, Tool, Toolkit
from advisor.messages import Button, Message, Reply, intent_payload
from advisor.replies import ADDED_NOTE, bullet_list, join_words, lower_first, tool_links, toolkit_profile

ASPECTS = ("overview", "skills", "tools", "fit", "cv_link")

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _rank_note(toolkit: Toolkit, catalogue: Catalogue) -> str:
    if toolkit.rank is None:
        return "the starting point the guide compares every alternative with"
    return f"#{toolkit.rank} of the {len(catalogue.alternatives())} alternatives in the guide"


def cv_sentences(toolkit: Toolkit) -> list[str]:
    """The description's sentences that contrast the toolkit with computer vision."""
    return [s for s in _SENTENCE.split(toolkit.description) if "Computer Vision" in s or "computer vision" in s]


def describe(toolkit: Toolkit, catalogue: Catalogue, aspect: str = "overview") -> Reply:
    """One toolkit, focused on ``aspect`` (one of ASPECTS)."""
    reply = Reply()
    name = toolkit.name
    if aspect == "skills":
        text = f"Key technical skills for a {name}: {', '.join(toolkit.key_skills)}."
        if toolkit.added.learn_first:
            text += f"\nWhat to learn first coming from computer vision {ADDED_NOTE}:\n{bullet_list(toolkit.added.learn_first)}"
        text += f"\nTools: {tool_links(catalogue.tools_of(toolkit))}"
    elif aspect == "tools":
        text = f"Tools the guide names for a {name}: {tool_links(catalogue.tools_of(toolkit))}."
        if toolkit.featured is not None:
            featured = catalogue.tool(toolkit.featured.tool)
            text += f"\n{toolkit.featured.caption} ({featured.url})"
        text += f"\nKey technical skills: {', '.join(toolkit.key_skills)}."
    elif aspect == "fit":
        suits = toolkit.best_for or toolkit.added.best_for
        note = "" if toolkit.best_for else f" {ADDED_NOTE}"
        text = (
            f"The {name} toolkit is best for{note}:\n{bullet_list(suits)}\nPrimary focus: {toolkit.primary_focus}."
            f"\nKey technical skills: {', '.join(toolkit.key_skills)}.\nTools: {tool_links(catalogue.tools_of(toolkit))}"
        )
    elif aspect == "cv_link":
        text = f"How the {name} toolkit relates to computer vision: {toolkit.adjacent_to_cv}."
        sentences = cv_sentences(toolkit)
        if sentences:
            text += " " + " ".join(sentences)
        if toolkit.added.carries_over:
            text += f"\nWhat carries over from your CV work {ADDED_NOTE}: {', '.join(toolkit.added.carries_over)}."
        text += f"\nKey technical skills: {', '.join(toolkit.key_skills)}.\nTools: {tool_links(catalogue.tools_of(toolkit))}"
    else:
        text = (
            f"**{name}** ({_rank_note(toolkit, catalogue)}): {lower_first(toolkit.summary)}\n"
            f"{toolkit.description}\n{toolkit_profile(toolkit, catalogue)}"
        )
    reply.say(text)
    return reply


def describe_tools(tools: list[Tool], catalogue: Catalogue) -> Reply:
    """Each tool (once, in the order named) and the toolkits the guide names it for."""
    reply = Reply()
    lines = []
    for tool in dict.fromkeys(tools):
        users = [t.name for t in catalogue.toolkits if tool.id in t.tools]
        text = f"{tool.name}: official documentation at {tool.url}."
        if users:
            text += f" The guide names it for the {join_words(users)} toolkit{'s' if len(users) > 1 else ''}."
        elif tool.added:
            text += f" It comes up in the next steps I suggest {ADDED_NOTE}."
        lines.append(text)
    reply.say("\n".join(lines))
    return reply


def shared(first: Toolkit, second: Toolkit) -> tuple[list[str], list[str]]:
    """Key skills and tool ids the two toolkits have in common."""
    skills_b = {s.casefold() for s in second.key_skills}
    skills = [s for s in first.key_skills if s.casefold() in skills_b]
    tools = [t for t in first.tools if t in second.tools]
    return skills, tools


def compare(first: Toolkit, second: Toolkit, catalogue: Catalogue) -> Reply:
    """Side by side: text for every channel plus a table payload for the web page."""
    rows = [
        ("Primary focus", first.primary_focus, second.primary_focus),
        ("Key technical skills", ", ".join(first.key_skills), ", ".join(second.key_skills)),
        ("Typical output", ", ".join(first.typical_output), ", ".join(second.typical_output)),
        ("Adjacent to computer vision", first.adjacent_to_cv, second.adjacent_to_cv),
        ("Best for", "; ".join(first.best_for or first.added.best_for), "; ".join(second.best_for or second.added.best_for)),
        ("Tools", tool_links(catalogue.tools_of(first)), tool_links(catalogue.tools_of(second))),
    ]
    lines = [f"**{first.name}** vs **{second.name}**"]
    for label, a, b in rows:
        lines.append(f"{label}:\n  • {first.name}: {a}\n  • {second.name}: {b}")
    skills, tools = shared(first, second)
    common = skills + [catalogue.tool(t).name for t in tools if catalogue.tool(t).name not in skills]
    if common:
        lines.append(f"In common: {', '.join(common)}.")
    custom = {
        "type": "comparison",
        "toolkits": [
            {"id": first.id, "name": first.name},
            {"id": second.id, "name": second.name},
        ],
        "rows": [{"label": label, "values": [a, b]} for label, a, b in rows],
    }
    reply = Reply()
    reply.say("\n".join(lines), custom=custom)
    return reply


def list_toolkits(catalogue: Catalogue) -> Reply:
    lines = ["The alternatives to the Computer Vision Engineer toolkit, ranked as in the guide:"]
    for toolkit in catalogue.alternatives():
        lines.append(f"{toolkit.rank}. {toolkit.name} - {lower_first(toolkit.summary)}")
    start = catalogue.starting_point()
    lines.append(f"Starting point: {start.name} - {lower_first(start.summary)}")
    # What the person moves from, in the guide's words: "what does the computer vision
    # toolkit cover?" is read as a request for this list as often as for the toolkit itself.
    lines.append(f"  Key skills: {', '.join(start.key_skills)}.")
    lines.append('Ask "what does a ... do?" or "compare ... and ..." about any of them.')
    reply = Reply()
    reply.say("\n".join(lines))
    return reply


def which_toolkit(catalogue: Catalogue, intent: str) -> Reply:
    """Ask which toolkit is meant, with a button per toolkit."""
    buttons = tuple(
        Button(t.name, intent_payload(intent, toolkit=t.id)) for t in [catalogue.starting_point(), *catalogue.alternatives()]
    )
    reply = Reply()
    reply.say("Which toolkit do you mean?", buttons)
    return reply


def resolve_toolkits(values: Sequence[str], catalogue: Catalogue) -> list[Toolkit]:
    """Toolkits named by entity values (ids or any name/alias), in order, without repeats."""
    found: list[Toolkit] = []
    for value in values:
        toolkit = find_toolkit(value, catalogue)
        if toolkit is not None and toolkit not in found:
            found.append(toolkit)
    return found


def _fold(text: str) -> str:
    return re.sub(r"[\s\-_.]+", " ", text.casefold()).strip()


def find_toolkit(value: str, catalogue: Catalogue) -> Optional[Toolkit]:
    if not isinstance(value, str):
        return None
    if value in catalogue.toolkit_ids:
        return catalogue.toolkit(value)
    folded = _fold(value)
    for toolkit in catalogue.toolkits:
        names = {_fold(n) for n in toolkit.names}
        if folded in names or folded.rstrip("s") in names:
            return toolkit
    return None


def find_tool(value: str, catalogue: Catalogue) -> Optional[Tool]:
    if not isinstance(value, str):
        return None
    folded = _fold(value)
    for tool in catalogue.tools:
        if value == tool.id or folded in {_fold(n) for n in (tool.name, *tool.aliases)}:
            return tool
    return None


def back_to_question(message: Message) -> Message:
    """The pending question again, after an aside."""
    return Message(f"Back to my question: {message.text}", message.buttons)
