"""The catalogue holds every fact of the seed document, and rejects broken edits clearly."""

from __future__ import annotations

import re

import pytest
import yaml

from advisor.catalogue import CatalogueError, load_catalogue
from tests.seed import SEED, SHARED_SEED, load_seed, normalise

SEED_DOC = load_seed()

EXPECTED_IDS = [
    "computer_vision_engineer",
    "ml_engineer",
    "data_engineer",
    "fullstack_engineer",
    "backend_engineer",
    "devops_engineer",
    "frontend_engineer",
    "product_manager",
]
EXPECTED_TREE = [
    ("ml_production", "ml_engineer"),
    ("data_infrastructure", "data_engineer"),
    ("full_stack", "fullstack_engineer"),
    ("server_side", "backend_engineer"),
    ("user_interfaces", "frontend_engineer"),
    ("automation", "devops_engineer"),
    ("product_strategy", "product_manager"),
]


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def test_shipped_seed_is_the_shared_document():
    if SHARED_SEED.exists():
        assert SEED.read_text(encoding="utf-8") == SHARED_SEED.read_text(encoding="utf-8")
    assert SEED.exists()


def test_toolkit_ids_and_ranks(catalogue):
    assert sorted(catalogue.toolkit_ids) == sorted(EXPECTED_IDS)
    assert [t.name for t in catalogue.alternatives()] == [s.name for s in SEED_DOC.sections]
    assert [t.rank for t in catalogue.alternatives()] == [s.rank for s in SEED_DOC.sections]
    assert catalogue.starting_point().id == "computer_vision_engineer"


@pytest.mark.parametrize("section", SEED_DOC.sections, ids=lambda s: s.name)
def test_ranked_section_facts(catalogue, section):
    toolkit = next(t for t in catalogue.toolkits if t.name == section.name)
    assert toolkit.summary == section.summary
    assert toolkit.description == section.description
    best_for = ", ".join(toolkit.best_for[:-1]) + ", and " + lower_first(toolkit.best_for[-1]) + "."
    assert best_for.lower() == section.best_for.lower()
    assert toolkit.featured is not None
    assert toolkit.featured.caption in section.paragraphs
    assert f"Dive deeper into the {section.name} toolkit." in section.paragraphs


@pytest.mark.parametrize("row", SEED_DOC.table, ids=lambda r: r.split(" ")[0])
def test_side_by_side_table_row(catalogue, row):
    toolkit = next(t for t in catalogue.toolkits if row.startswith(t.name + " "))
    expected = " ".join(
        [
            toolkit.name,
            toolkit.primary_focus,
            ", ".join(toolkit.key_skills),
            ", ".join(toolkit.typical_output),
            toolkit.adjacent_to_cv,
        ]
    )
    assert expected == row


def test_introduction_paragraphs(catalogue):
    assert catalogue.why_look_beyond == SEED_DOC.why_look_beyond
    assert catalogue.moving_beyond == SEED_DOC.moving_beyond
    assert catalogue.how_to_pick in SEED_DOC.how_to_pick


def test_starting_point_description_comes_from_the_seed(catalogue):
    start = catalogue.starting_point()
    for sentence in re.split(r"(?<=\.)\s+", start.description):
        assert sentence in SEED_DOC.text
    assert lower_first(start.summary).rstrip(".") in SEED_DOC.text


def _section_text(catalogue, toolkit) -> str:
    row = next(r for r in SEED_DOC.table if r.startswith(toolkit.name + " "))
    if toolkit.rank is None:
        return SEED_DOC.why_look_beyond + " " + row
    section = next(s for s in SEED_DOC.sections if s.name == toolkit.name)
    return section.text + " " + row


def _named(tool, text: str) -> bool:
    return any(re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", text, re.IGNORECASE) for name in (tool.name, *tool.aliases))


def test_every_tool_the_seed_names_is_in_its_toolkit(catalogue):
    seed_tools = [t for t in catalogue.tools if not t.added]
    for toolkit in catalogue.toolkits:
        text = _section_text(catalogue, toolkit)
        named = {t.id for t in seed_tools if _named(t, text)}
        assert named <= set(toolkit.tools), f"{toolkit.id} misses {named - set(toolkit.tools)}"
        assert set(toolkit.tools) <= named, f"{toolkit.id} lists tools the seed does not name: {set(toolkit.tools) - named}"


def test_tools_have_https_documentation_links(catalogue):
    for tool in catalogue.tools:
        assert tool.url.startswith("https://")
    assert not [t for t in catalogue.tools if not t.added and t.id not in {x for k in catalogue.toolkits for x in k.tools}]


def test_decision_tree_order_and_wording(catalogue):
    assert [(q.id, q.leads_to) for q in catalogue.questions] == EXPECTED_TREE
    assert catalogue.fallback.toolkit == "computer_vision_engineer"
    for question in catalogue.questions:
        assert lower_first(question.if_yes) in SEED_DOC.how_to_pick, question.id
        if question.if_no:
            assert question.if_no in SEED_DOC.how_to_pick, question.id
        if question.id != "user_interfaces":  # built from the seed's fourth bullet
            assert question.wording in SEED_DOC.how_to_pick, question.id
        assert question.explanation and question.topic and question.listen_for


def test_added_facts_are_kept_apart(catalogue):
    """Non-seed facts live under `added`, never in the seed fields."""
    for toolkit in catalogue.toolkits:
        for fact in toolkit.added.carries_over + toolkit.added.learn_first:
            assert normalise(fact) not in SEED_DOC.text or len(fact) < 12
        assert toolkit.added.first_project, toolkit.id
        assert len(toolkit.added.resources) >= 2, toolkit.id


def test_aliases_name_each_toolkit_once(catalogue):
    seen = {}
    for toolkit in catalogue.toolkits:
        for name in toolkit.names:
            assert seen.setdefault(name.casefold(), toolkit.id) == toolkit.id


# -- validation --------------------------------------------------------------------


def _edit(directory, filename, change):
    path = directory / filename
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def _error(directory) -> CatalogueError:
    with pytest.raises(CatalogueError) as info:
        load_catalogue(directory)
    return info.value


def test_missing_field_is_named(catalogue_copy):
    _edit(catalogue_copy, "toolkits.yml", lambda d: d["toolkits"][2].pop("primary_focus"))
    err = _error(catalogue_copy)
    assert err.file.endswith("toolkits.yml")
    assert "data_engineer" in err.entry
    assert "missing field 'primary_focus'" in err.problem


def test_unknown_toolkit_in_tree_is_named(catalogue_copy):
    _edit(catalogue_copy, "decision_tree.yml", lambda d: d["questions"][1].update(leads_to="data_scientist"))
    err = _error(catalogue_copy)
    assert err.file.endswith("decision_tree.yml")
    assert "data_infrastructure" in err.entry
    assert "unknown toolkit id 'data_scientist'" in err.problem


def test_duplicate_id_is_named(catalogue_copy):
    _edit(catalogue_copy, "toolkits.yml", lambda d: d["toolkits"][3].update(id="data_engineer"))
    err = _error(catalogue_copy)
    assert "duplicate id 'data_engineer'" in err.problem
    assert "toolkits[3]" in err.entry


def test_bad_url_is_named(catalogue_copy):
    _edit(catalogue_copy, "tools.yml", lambda d: d["tools"][0].update(url="docs.python.org"))
    err = _error(catalogue_copy)
    assert err.file.endswith("tools.yml")
    assert "python" in err.entry
    assert "bad URL 'docs.python.org'" in err.problem


def test_unknown_tool_reference_is_named(catalogue_copy):
    _edit(catalogue_copy, "toolkits.yml", lambda d: d["toolkits"][1]["tools"].append("excel"))
    err = _error(catalogue_copy)
    assert "unknown tool id 'excel'" in err.problem


def test_unreachable_alternative_is_named(catalogue_copy):
    _edit(catalogue_copy, "decision_tree.yml", lambda d: d["questions"].pop(5))
    err = _error(catalogue_copy)
    assert "no question leads to the alternative 'devops_engineer'" in err.problem


def test_invalid_yaml_names_the_line(catalogue_copy):
    path = catalogue_copy / "tools.yml"
    path.write_text(path.read_text() + "\n  - {id: broken, name: [unclosed\n")
    err = _error(catalogue_copy)
    assert err.file.endswith("tools.yml")
    assert "line" in err.entry
    assert "not valid YAML" in err.problem


def test_missing_file_is_named(catalogue_copy):
    (catalogue_copy / "decision_tree.yml").unlink()
    err = _error(catalogue_copy)
    assert err.file.endswith("decision_tree.yml") and "file not found" in err.problem


def test_new_question_is_a_data_change(catalogue_copy):
    """Reordering the tree is a change to the YAML only."""
    _edit(catalogue_copy, "decision_tree.yml", lambda d: d["questions"].reverse())
    reordered = load_catalogue(catalogue_copy)
    assert reordered.question_ids[0] == "product_strategy"
