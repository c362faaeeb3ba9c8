"""Rasa's training cache must not serve features the preference reader computed before a change.

Rasa reuses a component's training output when its class, config and graph
inputs are unchanged; the reader's code, cue lists and the catalogue are none
of those, so ``CueFeaturizer`` adds their digest to its fingerprint.
"""

from __future__ import annotations

import shutil

import pytest

from components import reader
from components.cue_featurizer import CueFeaturizer


@pytest.fixture
def project_copy(tmp_path, monkeypatch):
    for folder in ("advisor", "catalogue"):
        shutil.copytree(reader.PROJECT / folder, tmp_path / folder)
    monkeypatch.setattr(reader, "PROJECT", tmp_path)
    reader.reader_fingerprint.cache_clear()
    yield tmp_path
    reader.reader_fingerprint.cache_clear()


@pytest.mark.parametrize("changed", ["advisor/stance_cues.yml", "advisor/preferences.py", "catalogue/toolkits.yml"])
def test_a_change_to_what_the_reader_reads_changes_the_featurizers_fingerprint(project_copy, changed):
    before = CueFeaturizer.fingerprint_addon({})
    assert before == CueFeaturizer.fingerprint_addon({})  # stable while nothing changes
    path = project_copy / changed
    path.write_text(path.read_text() + "\n# changed\n")
    reader.reader_fingerprint.cache_clear()
    assert CueFeaturizer.fingerprint_addon({}) != before


def test_files_the_reader_does_not_read_leave_it_alone(project_copy):
    before = CueFeaturizer.fingerprint_addon({})
    (project_copy / "README.md").write_text("unrelated")
    reader.reader_fingerprint.cache_clear()
    assert CueFeaturizer.fingerprint_addon({}) == before
