"""Serving without TensorFlow: which models qualify, and what the stand-in allows (plain tests).

The stand-in itself is tried in a fresh interpreter: once in place it cannot be
taken out of a process that also needs the real TensorFlow (this one does).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import textwrap
import time
from pathlib import Path

import pytest
from rasa.engine.recipes.default_components import DEFAULT_COMPONENTS
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.data import TrainingType
from rasa.shared.utils.io import read_config_file

from ops import tensorflow_free
from ops.tensorflow_free import (
    TENSORFLOW_COMPONENT_MODULES,
    components_needing_tensorflow,
    model_archive,
    model_components,
    model_without_tensorflow,
)

PROJECT = Path(__file__).resolve().parents[1]
PROJECT_CONFIG = PROJECT / "config.yml"
REFERENCE_CONFIG = PROJECT / "bench" / "reference_config.yml"


def predict_components(config: Path) -> list[str]:
    """The classes of the prediction graph Rasa builds from a config (no training needed)."""
    graph = DefaultV1Recipe().graph_config_for_recipe(read_config_file(config), {}, TrainingType.BOTH)
    return sorted({f"{node.uses.__module__}.{node.uses.__name__}" for node in graph.predict_schema.nodes.values()})


def archive_with(path: Path, components: list[str]) -> Path:
    """A model archive whose metadata names these components, as Rasa writes it."""
    metadata = {"predict_schema": {"nodes": {f"node{i}": {"uses": name} for i, name in enumerate(components)}}}
    data = json.dumps(metadata).encode()
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("metadata.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


def test_rasas_tensorflow_components_are_exactly_the_listed_ones():
    # A Rasa upgrade that adds or removes a TensorFlow component fails here.
    importing = {
        cls.__module__
        for cls in DEFAULT_COMPONENTS
        if any(
            tensorflow_free._tensorflow_import(name) and name.split(".")[0] in ("tensorflow", "keras")
            for name in tensorflow_free._imported_modules(Path(sys.modules[cls.__module__].__file__).read_text())
        )
    }
    assert importing == TENSORFLOW_COMPONENT_MODULES


def test_the_projects_configuration_needs_no_tensorflow_and_the_reference_does():
    project = predict_components(PROJECT_CONFIG)
    assert any(name.startswith("components.") for name in project)  # the project's own components were checked too
    assert components_needing_tensorflow(project) == []
    reference = components_needing_tensorflow(predict_components(REFERENCE_CONFIG))
    assert {name.rpartition(".")[2] for name in reference} == {
        "DIETClassifier",
        "ResponseSelector",
        "TEDPolicy",
        "UnexpecTEDIntentPolicy",
    }


def test_a_custom_component_importing_tensorflow_needs_it(tmp_path, monkeypatch):
    package = tmp_path / "plugin_components"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "dense.py").write_text("import numpy\nfrom tensorflow import keras\n")
    (package / "subclass.py").write_text("from rasa.nlu.classifiers.diet_classifier import DIETClassifier\n")
    (package / "by_module.py").write_text("from rasa.nlu.classifiers import diet_classifier\n")
    (package / "plain.py").write_text("import numpy\nfrom rasa.utils.tensorflow.constants import RANKING_LENGTH\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    names = [f"plugin_components.{m}.Component" for m in ("dense", "subclass", "by_module", "plain")]
    names.append("not_installed_anywhere.Component")  # unreadable: assume it needs TensorFlow
    assert components_needing_tensorflow(names) == [names[0], names[1], names[2], names[4]]


def test_model_archive_is_the_one_rasa_would_load(tmp_path):
    older, newer = tmp_path / "a.tar.gz", tmp_path / "b.tar.gz"
    older.write_bytes(b"x")
    time.sleep(0.02)
    newer.write_bytes(b"x")
    assert model_archive(["--model", str(older)]) == older
    assert model_archive([f"--model={older}"]) == older
    assert model_archive(["-m", str(tmp_path)]) == newer  # a directory: its newest archive
    assert model_archive([], default_dir=tmp_path) == newer
    assert model_archive(["--model", str(tmp_path / "missing.tar.gz")]) is None
    assert model_archive([], default_dir=tmp_path / "empty") is None


def test_model_components_come_from_the_archive_metadata(tmp_path):
    names = ["rasa.core.policies.rule_policy.RulePolicy", "components.input_guard.InputGuard"]
    assert model_components(archive_with(tmp_path / "m.tar.gz", names)) == sorted(names)
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"not a tar file")
    with pytest.raises(tarfile.TarError):
        model_components(broken)


def test_only_serving_a_tensorflow_free_model_leaves_tensorflow_out(tmp_path, monkeypatch):
    monkeypatch.delenv("LOAD_TENSORFLOW", raising=False)
    lean = archive_with(tmp_path / "lean.tar.gz", predict_components(PROJECT_CONFIG))
    heavy = archive_with(tmp_path / "heavy.tar.gz", predict_components(REFERENCE_CONFIG))
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"not a tar file")
    assert model_without_tensorflow(["run", "--enable-api", "--model", str(lean)]) == lean
    assert model_without_tensorflow(["shell", "-m", str(lean)]) == lean
    assert model_without_tensorflow(["run", "--model", str(heavy)]) is None
    assert model_without_tensorflow(["run", "--model", str(broken)]) is None
    assert model_without_tensorflow(["train", "--model", str(lean)]) is None
    assert model_without_tensorflow([]) is None
    monkeypatch.setenv("LOAD_TENSORFLOW", "1")
    assert model_without_tensorflow(["run", "--model", str(lean)]) is None


def run_fresh(code: str) -> dict:
    """Run code in a new interpreter of this venv with the stand-in installed first; its JSON output."""
    script = "from ops.tensorflow_free import install_stand_in\ninstall_stand_in()\n" + textwrap.dedent(code)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_stand_in_can_be_named_and_subclassed_but_not_used():
    result = run_fresh(
        """
        import json
        import tensorflow as tf
        from tensorflow.keras import layers
        from ops.tensorflow_free import TensorFlowNotLoaded

        class Dense(tf.keras.layers.Layer):  # Rasa's modules define classes like this at import
            pass

        def attempt(call):
            try:
                call()
            except TensorFlowNotLoaded as err:
                return str(err)
            return "no error"

        try:
            import tensorflow.experimental.dlpack  # thinc's probe
            probe = "imported"
        except ImportError:
            probe = "ImportError"
        import thinc.compat
        print(json.dumps({
            "same_object": tf.keras.layers.Layer is layers.Layer,
            "call": attempt(lambda: tf.constant(1.0)),
            "instance": attempt(Dense),
            "probe": probe,
            "thinc_sees_tensorflow": thinc.compat.has_tensorflow,
        }))
        """
    )
    assert result["same_object"]
    assert "tensorflow.constant was used" in result["call"] and "LOAD_TENSORFLOW=1" in result["call"]
    assert "Dense (a tensorflow.keras.layers.Layer) was used" in result["instance"]
    assert result["probe"] == "ImportError"
    assert result["thinc_sees_tensorflow"] is False


def test_rasa_and_all_its_components_import_without_the_real_tensorflow():
    # Rasa's agent and every default component import; TensorFlow's native library is never loaded.
    result = run_fresh(
        """
        import json, sys
        import rasa.core.agent
        import rasa.engine.recipes.default_components
        from ops.tensorflow_free import tensorflow_loaded
        maps = open("/proc/self/maps").read()
        print(json.dumps({
            "agent": "rasa.core.agent" in sys.modules,
            "native_library": "pywrap_tensorflow" in maps,
            "loaded": tensorflow_loaded(),
        }))
        """
    )
    assert result == {"agent": True, "native_library": False, "loaded": False}


@pytest.mark.servers
def test_the_running_server_serves_without_tensorflow(stack):
    from tests.http_client import Client, new_sender, text_of

    assert text_of(Client(stack.url, stack.token).say(new_sender(), "hi"))  # it answers ...
    rasa = next(process for process in stack.processes if process.name == "rasa")
    maps = Path(f"/proc/{rasa.popen.pid}/maps").read_text()
    assert "site-packages/spacy" in maps  # (the check reads the right process)
    assert "pywrap_tensorflow" not in maps  # ... without TensorFlow's native library


TINY_TENSORFLOW_CONFIG = """
recipe: default.v1
language: en
assistant_id: tiny-diet
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
  - name: DIETClassifier
    epochs: 1
policies: []
"""

TINY_NLU = """
version: "3.1"
nlu:
  - intent: greet
    examples: |
      - hi
      - hello there
      - good morning
  - intent: bye
    examples: |
      - bye
      - see you later
      - good night
"""


@pytest.mark.servers
def test_a_tensorflow_model_loaded_later_is_refused_and_the_served_one_stays(stack, tmp_path):
    """The launcher decides about TensorFlow once, from the model it starts with.

    A model that needs TensorFlow sent later through ``PUT /model`` cannot run on
    the stand-in: Rasa refuses it (400, "could not be loaded", as for any model it
    cannot load), its log gives the stand-in's reason and what to set, and the
    server goes on answering with the model it had.
    """
    from ops.stack import VENV_BIN
    from tests.http_client import Client, new_sender, text_of

    (tmp_path / "config.yml").write_text(TINY_TENSORFLOW_CONFIG)
    (tmp_path / "nlu.yml").write_text(TINY_NLU)
    subprocess.run(
        [str(VENV_BIN / "rasa"), "train", "nlu", "--config", "config.yml", "--nlu", "nlu.yml", "--out", "models"],
        cwd=tmp_path,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "RASA_CACHE_DIRECTORY": str(tmp_path / "cache")},
        check=True,
        capture_output=True,
        timeout=600,
    )
    tensorflow_model = next((tmp_path / "models").glob("*.tar.gz"))
    needing = components_needing_tensorflow(model_components(tensorflow_model))
    assert [name.rpartition(".")[2] for name in needing] == ["DIETClassifier"]

    client = Client(stack.url, stack.token)
    served = client.request("GET", "/status")[1]["model_id"]
    status, body = client.request("PUT", "/model", {"model_file": str(tensorflow_model)})
    try:
        assert status == 400, body
        assert "could not be loaded" in body["message"]
        rasa = next(process for process in stack.processes if process.name == "rasa")
        log = rasa.log.read_text(encoding="utf-8", errors="replace")
        reason = log[log.index(str(tensorflow_model)) :]  # what was logged from this model's load on
        assert "TensorFlowNotLoaded" in reason and "Start with LOAD_TENSORFLOW=1" in reason
        assert client.request("GET", "/status")[1]["model_id"] == served
        assert text_of(client.say(new_sender(), "hi"))
    finally:
        if status < 400:  # it loaded after all: put the session's model back for the other tests
            client.request("PUT", "/model", {"model_file": str(stack.model)})
