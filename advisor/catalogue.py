"""The career catalogue: toolkits, tools and the decision tree, loaded from YAML.

The YAML files under ``catalogue/`` are the single source of truth; everything
else (replies, NLU patterns, buttons, validation) is derived from the objects
built here. Loading validates the whole catalogue and raises
:class:`CatalogueError` naming the file, the entry and the problem, so that a
broken edit stops the action server at start-up instead of surfacing as an odd
reply in the middle of a conversation.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional
from urllib.parse import urlparse

import yaml

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "catalogue"
CATALOGUE_DIR_ENV = "TOOLKIT_ADVISOR_CATALOGUE"

TOOLKITS_FILE = "toolkits.yml"
TOOLS_FILE = "tools.yml"
TREE_FILE = "decision_tree.yml"

_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class CatalogueError(ValueError):
    """A catalogue file is missing, unreadable or inconsistent."""

    def __init__(self, file: Path | str, entry: str, problem: str) -> None:
        self.file = str(file)
        self.entry = entry
        self.problem = problem
        where = f"{self.file}: {entry}" if entry else self.file
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Resource:
    title: str
    url: str


@dataclass(frozen=True)
class Tool:
    id: str
    name: str
    url: str
    aliases: tuple[str, ...] = ()
    signals: Optional[str] = None
    match_name: bool = True
    added: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the tool is recognised by (the bare name only if safe)."""
        return ((self.name,) if self.match_name else ()) + self.aliases


@dataclass(frozen=True)
class Featured:
    tool: str
    caption: str


@dataclass(frozen=True)
class Added:
    """Facts about a toolkit that the seed document does not state."""

    best_for: tuple[str, ...] = ()
    carries_over: tuple[str, ...] = ()
    learn_first: tuple[str, ...] = ()
    first_project: str = ""
    resources: tuple[Resource, ...] = ()


@dataclass(frozen=True)
class Toolkit:
    id: str
    name: str
    rank: Optional[int]
    summary: str
    primary_focus: str
    key_skills: tuple[str, ...]
    typical_output: tuple[str, ...]
    adjacent_to_cv: str
    description: str
    best_for: tuple[str, ...]
    tools: tuple[str, ...]
    featured: Optional[Featured]
    aliases: tuple[str, ...]
    short_names: tuple[str, ...] = ()
    added: Added = field(default_factory=Added)

    @property
    def names(self) -> tuple[str, ...]:
        """Everything that names the toolkit in a question ("compare frontend and backend")."""
        return (self.name,) + self.aliases + self.short_names

    @property
    def is_alternative(self) -> bool:
        return self.rank is not None


@dataclass(frozen=True)
class Question:
    id: str
    leads_to: str
    wording: str
    explanation: str
    if_yes: str
    if_no: str
    topic: str
    listen_for: tuple[str, ...]
    combines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Fallback:
    toolkit: str
    summary: str
    would_change: str


@dataclass(frozen=True)
class Catalogue:
    version: str
    title: str
    why_look_beyond: str
    moving_beyond: str
    how_to_pick: str
    toolkits: tuple[Toolkit, ...]
    tools: tuple[Tool, ...]
    questions: tuple[Question, ...]
    fallback: Fallback
    directory: Path

    # -- lookups ---------------------------------------------------------
    def toolkit(self, toolkit_id: str) -> Toolkit:
        for toolkit in self.toolkits:
            if toolkit.id == toolkit_id:
                return toolkit
        raise KeyError(toolkit_id)

    def tool(self, tool_id: str) -> Tool:
        for tool in self.tools:
            if tool.id == tool_id:
                return tool
        raise KeyError(tool_id)

    def question(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    @property
    def question_ids(self) -> tuple[str, ...]:
        return tuple(q.id for q in self.questions)

    @property
    def toolkit_ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.toolkits)

    def alternatives(self) -> list[Toolkit]:
        """The alternatives in the seed's ranked order."""
        return sorted((t for t in self.toolkits if t.is_alternative), key=lambda t: t.rank or 0)

    def starting_point(self) -> Toolkit:
        return self.toolkit(self.fallback.toolkit)

    def question_for(self, toolkit_id: str) -> Optional[Question]:
        """The question whose "yes" leads to ``toolkit_id`` (None for the fallback)."""
        for question in self.questions:
            if question.leads_to == toolkit_id:
                return question
        return None

    def tools_of(self, toolkit: Toolkit) -> list[Tool]:
        return [self.tool(tool_id) for tool_id in toolkit.tools]


# -- loading ----------------------------------------------------------------


def catalogue_dir() -> Path:
    """Where the catalogue lives: $TOOLKIT_ADVISOR_CATALOGUE or ./catalogue."""
    return Path(os.environ.get(CATALOGUE_DIR_ENV) or DEFAULT_DIR)


@functools.lru_cache(maxsize=4)
def _load_cached(directory: Path) -> Catalogue:
    return load_catalogue(directory)


def get_catalogue() -> Catalogue:
    """The catalogue, loaded and validated once per process."""
    return _load_cached(catalogue_dir().resolve())


def load_catalogue(directory: Path | str | None = None) -> Catalogue:
    """Read and validate the catalogue in ``directory`` (default: catalogue_dir())."""
    directory = Path(directory) if directory is not None else catalogue_dir()
    toolkits_doc = _read_yaml(directory / TOOLKITS_FILE)
    tools_doc = _read_yaml(directory / TOOLS_FILE)
    tree_doc = _read_yaml(directory / TREE_FILE)

    tools = _parse_tools(directory / TOOLS_FILE, tools_doc)
    tool_ids = {t.id for t in tools}
    toolkits = _parse_toolkits(directory / TOOLKITS_FILE, toolkits_doc, tool_ids)
    toolkit_ids = {t.id for t in toolkits}
    questions, fallback = _parse_tree(directory / TREE_FILE, tree_doc, toolkit_ids)
    _check_coverage(directory / TREE_FILE, toolkits, questions, fallback)
    _check_signals(directory / TOOLS_FILE, tools, {q.id for q in questions})

    path = directory / TOOLKITS_FILE
    return Catalogue(
        version=_text(path, "version", toolkits_doc, "version"),
        title=_text(path, "title", toolkits_doc, "title"),
        why_look_beyond=_text(path, "why_look_beyond", toolkits_doc, "why_look_beyond"),
        moving_beyond=_text(path, "moving_beyond", toolkits_doc, "moving_beyond"),
        how_to_pick=_text(path, "how_to_pick", toolkits_doc, "how_to_pick"),
        toolkits=tuple(toolkits),
        tools=tuple(tools),
        questions=tuple(questions),
        fallback=fallback,
        directory=directory,
    )


def _read_yaml(path: Path) -> Mapping[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogueError(path, "", "file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise CatalogueError(path, "", f"cannot be read ({err})") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise CatalogueError(path, where, f"is not valid YAML: {problem}") from None
    if not isinstance(doc, dict):
        raise CatalogueError(path, "", "must be a YAML mapping at the top level")
    return doc


def _entries(path: Path, doc: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    items = doc.get(key)
    if not isinstance(items, list) or not items:
        raise CatalogueError(path, key, "must be a non-empty list")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise CatalogueError(path, f"{key}[{index}]", "must be a mapping")
    return items


def _entry_name(key: str, index: int, item: Mapping[str, Any]) -> str:
    ident = item.get("id")
    return f"{key}[{index}] ({ident})" if isinstance(ident, str) else f"{key}[{index}]"


def _text(path: Path, entry: str, item: Mapping[str, Any], name: str, *, allow_empty: bool = False) -> str:
    if name not in item:
        raise CatalogueError(path, entry, f"missing field '{name}'")
    value = item[name]
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise CatalogueError(path, entry, f"field '{name}' must be a non-empty string")
    return " ".join(value.split())


def _texts(path: Path, entry: str, item: Mapping[str, Any], name: str, *, required: bool = True) -> tuple[str, ...]:
    if name not in item:
        if required:
            raise CatalogueError(path, entry, f"missing field '{name}'")
        return ()
    value = item[name]
    if value is None:
        value = []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CatalogueError(path, entry, f"field '{name}' must be a list of non-empty strings")
    return tuple(" ".join(v.split()) for v in value)


def _ident(path: Path, entry: str, item: Mapping[str, Any], seen: set[str]) -> str:
    ident = _text(path, entry, item, "id")
    if not _ID.match(ident):
        raise CatalogueError(path, entry, f"id '{ident}' must be snake_case (a-z, 0-9, _)")
    if ident in seen:
        raise CatalogueError(path, entry, f"duplicate id '{ident}'")
    seen.add(ident)
    return ident


def check_url(path: Path, entry: str, url: Any) -> str:
    """An http(s) URL with a host; anything else is a catalogue error."""
    if not isinstance(url, str):
        raise CatalogueError(path, entry, "url must be a string")
    parsed = urlparse(url)
    if parsed.scheme != "https" or not parsed.netloc or " " in url or "." not in parsed.netloc:
        raise CatalogueError(path, entry, f"bad URL '{url}' (an https:// address with a host is required)")
    return url


def _parse_tools(path: Path, doc: Mapping[str, Any]) -> list[Tool]:
    seen: set[str] = set()
    tools = []
    for index, item in enumerate(_entries(path, doc, "tools")):
        entry = _entry_name("tools", index, item)
        tools.append(
            Tool(
                id=_ident(path, entry, item, seen),
                name=_text(path, entry, item, "name"),
                url=check_url(path, entry, item.get("url")),
                aliases=_texts(path, entry, item, "aliases", required=False),
                signals=item.get("signals"),
                match_name=bool(item.get("match_name", True)),
                added=bool(item.get("added", False)),
            )
        )
    return tools


def _parse_added(path: Path, entry: str, item: Mapping[str, Any]) -> Added:
    added = item.get("added") or {}
    if not isinstance(added, dict):
        raise CatalogueError(path, entry, "field 'added' must be a mapping")
    resources = []
    for index, res in enumerate(added.get("resources") or []):
        where = f"{entry} added.resources[{index}]"
        if not isinstance(res, dict):
            raise CatalogueError(path, where, "must be a mapping with title and url")
        resources.append(Resource(_text(path, where, res, "title"), check_url(path, where, res.get("url"))))
    first_project = added.get("first_project") or ""
    if not isinstance(first_project, str):
        raise CatalogueError(path, entry, "field 'added.first_project' must be a string")
    return Added(
        best_for=_texts(path, entry, added, "best_for", required=False),
        carries_over=_texts(path, entry, added, "carries_over", required=False),
        learn_first=_texts(path, entry, added, "learn_first", required=False),
        first_project=" ".join(first_project.split()),
        resources=tuple(resources),
    )


def _parse_toolkits(path: Path, doc: Mapping[str, Any], tool_ids: set[str]) -> list[Toolkit]:
    seen: set[str] = set()
    ranks: dict[int, str] = {}
    toolkits = []
    for index, item in enumerate(_entries(path, doc, "toolkits")):
        entry = _entry_name("toolkits", index, item)
        ident = _ident(path, entry, item, seen)
        if "rank" not in item:
            raise CatalogueError(path, entry, "missing field 'rank' (null for the starting point)")
        rank = item["rank"]
        if rank is not None:
            if not isinstance(rank, int) or isinstance(rank, bool) or rank < 1:
                raise CatalogueError(path, entry, "field 'rank' must be a positive integer or null")
            if rank in ranks:
                raise CatalogueError(path, entry, f"rank {rank} is already used by '{ranks[rank]}'")
            ranks[rank] = ident
        tools = _texts(path, entry, item, "tools")
        for tool in tools:
            if tool not in tool_ids:
                raise CatalogueError(path, entry, f"unknown tool id '{tool}' (not in {TOOLS_FILE})")
        featured = item.get("featured")
        if featured is not None:
            if not isinstance(featured, dict):
                raise CatalogueError(path, entry, "field 'featured' must be a mapping or null")
            featured_tool = _text(path, entry + " featured", featured, "tool")
            if featured_tool not in tool_ids:
                raise CatalogueError(path, entry, f"featured tool '{featured_tool}' is not in {TOOLS_FILE}")
            featured = Featured(featured_tool, _text(path, entry + " featured", featured, "caption"))
        toolkits.append(
            Toolkit(
                id=ident,
                name=_text(path, entry, item, "name"),
                rank=rank,
                summary=_text(path, entry, item, "summary"),
                primary_focus=_text(path, entry, item, "primary_focus"),
                key_skills=_texts(path, entry, item, "key_skills"),
                typical_output=_texts(path, entry, item, "typical_output"),
                adjacent_to_cv=_text(path, entry, item, "adjacent_to_cv"),
                description=_text(path, entry, item, "description"),
                best_for=_texts(path, entry, item, "best_for"),
                tools=tools,
                featured=featured,
                aliases=_texts(path, entry, item, "aliases"),
                short_names=_texts(path, entry, item, "short_names", required=False),
                added=_parse_added(path, entry, item),
            )
        )
    _check_unique_names(path, "toolkits", ((t.id, t.names) for t in toolkits))
    return toolkits


def _parse_tree(path: Path, doc: Mapping[str, Any], toolkit_ids: set[str]) -> tuple[list[Question], Fallback]:
    seen: set[str] = set()
    questions = []
    for index, item in enumerate(_entries(path, doc, "questions")):
        entry = _entry_name("questions", index, item)
        ident = _ident(path, entry, item, seen)
        leads_to = _text(path, entry, item, "leads_to")
        if leads_to not in toolkit_ids:
            raise CatalogueError(path, entry, f"unknown toolkit id '{leads_to}' in leads_to (not in {TOOLKITS_FILE})")
        questions.append(
            Question(
                id=ident,
                leads_to=leads_to,
                wording=_text(path, entry, item, "wording"),
                explanation=_text(path, entry, item, "explanation"),
                if_yes=_text(path, entry, item, "if_yes"),
                if_no=_text(path, entry, item, "if_no", allow_empty=True),
                topic=_text(path, entry, item, "topic"),
                listen_for=_texts(path, entry, item, "listen_for"),
                combines=_texts(path, entry, item, "combines", required=False),
            )
        )
    known = {q.id for q in questions}
    for question in questions:
        for other in question.combines:
            if other not in known or other == question.id:
                raise CatalogueError(path, f"questions ({question.id})", f"combines unknown question id '{other}'")
    fallback_doc = doc.get("fallback")
    if not isinstance(fallback_doc, dict):
        raise CatalogueError(path, "fallback", "must be a mapping with toolkit, summary and would_change")
    fallback = Fallback(
        toolkit=_text(path, "fallback", fallback_doc, "toolkit"),
        summary=_text(path, "fallback", fallback_doc, "summary"),
        would_change=_text(path, "fallback", fallback_doc, "would_change"),
    )
    if fallback.toolkit not in toolkit_ids:
        raise CatalogueError(path, "fallback", f"unknown toolkit id '{fallback.toolkit}' (not in {TOOLKITS_FILE})")
    return questions, fallback


def _check_unique_names(path: Path, key: str, named: Iterable[tuple[str, tuple[str, ...]]]) -> None:
    owners: dict[str, str] = {}
    for ident, names in named:
        for name in names:
            folded = name.casefold()
            if owners.get(folded, ident) != ident:
                raise CatalogueError(path, f"{key} ({ident})", f"alias '{name}' is also used by '{owners[folded]}'")
            owners[folded] = ident


def _check_signals(path: Path, tools: list[Tool], question_ids: set[str]) -> None:
    for tool in tools:
        if tool.signals is not None and tool.signals not in question_ids:
            raise CatalogueError(path, f"tools ({tool.id})", f"signals unknown question id '{tool.signals}' (not in {TREE_FILE})")
        if not tool.names:
            raise CatalogueError(path, f"tools ({tool.id})", "match_name is false but there are no aliases to match")
    _check_unique_names(path, "tools", ((t.id, (t.name,) + t.aliases) for t in tools))


def _check_coverage(path: Path, toolkits: list[Toolkit], questions: list[Question], fallback: Fallback) -> None:
    """Every alternative is reachable by exactly one question; the starting point by none."""
    led = {}
    for question in questions:
        if question.leads_to in led:
            raise CatalogueError(
                path,
                f"questions ({question.id})",
                f"toolkit '{question.leads_to}' is already reached by '{led[question.leads_to]}'",
            )
        led[question.leads_to] = question.id
    for toolkit in toolkits:
        if toolkit.is_alternative and toolkit.id not in led:
            raise CatalogueError(path, "questions", f"no question leads to the alternative '{toolkit.id}'")
        if not toolkit.is_alternative and toolkit.id != fallback.toolkit:
            raise CatalogueError(path, "fallback", f"'{toolkit.id}' has no rank and is not the fallback")
    if fallback.toolkit in led:
        raise CatalogueError(path, "fallback", f"the fallback '{fallback.toolkit}' must not be a question's leads_to")
