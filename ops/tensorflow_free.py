"""Serve a model that runs no TensorFlow without importing TensorFlow.

Rasa 3.6 imports TensorFlow whatever the configuration: ``rasa.core.agent``
reaches it through the policy featurizers and ``rasa.utils.train_utils``, and
spaCy's ``thinc`` probes for it too. On this project's 2-core machine that
import is about 4 s of a ~8 s cold start and ~400 MB of the Rasa server's
~730 MB (bench/NOTES.md), for a model - logistic regression, rules, spaCy
lookups - that never runs a TensorFlow operation.

:func:`prepare` (called by ``ops/rasa_server.py`` before it imports Rasa)
reads the model's graph schema from the archive, and when no component of it
needs TensorFlow it puts a stand-in package in front of ``tensorflow`` and
``keras``. Rasa's modules still import and define their classes (the
stand-in's attributes are classes, so ``class X(tf.keras.layers.Layer)`` and
``Optional[tf.Tensor]`` work), but any *use* - calling a TensorFlow function
or creating a TensorFlow object - raises :class:`TensorFlowNotLoaded`, naming
what was used and how to load the real thing. Nothing runs on a pretend
TensorFlow: it either is not touched, or the program stops saying why.

A model with DIET, TED, ResponseSelector, UnexpecTED, the language-model or
ConveRT featurizers (``bench/reference_config.yml``), or with a custom
component whose module imports TensorFlow or one of those, gets the real
TensorFlow, as does any process started with ``LOAD_TENSORFLOW=1``. The
decision is made once, at start, for the model given on the command line: a
model with TensorFlow components loaded later through the HTTP API
(``PUT /model``) into a server started without it fails to load with
:class:`TensorFlowNotLoaded`'s message, and the server keeps its model.
"""

from __future__ import annotations

import ast
import importlib.abc
import importlib.machinery
import importlib.util
import json
import logging
import os
import sys
import tarfile
import types
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

logger = logging.getLogger("ops.tensorflow_free")

FORCE_ENV = "LOAD_TENSORFLOW"

# Rasa 3.6's components that build TensorFlow models (each of these modules
# imports TensorFlow itself; tests/test_tensorflow_free.py checks the list
# against Rasa's default components so a Rasa upgrade cannot slip past it).
TENSORFLOW_COMPONENT_MODULES = frozenset(
    {
        "rasa.nlu.classifiers.diet_classifier",
        "rasa.nlu.selectors.response_selector",
        "rasa.nlu.featurizers.dense_featurizer.lm_featurizer",
        "rasa.nlu.featurizers.dense_featurizer.convert_featurizer",
        "rasa.core.policies.ted_policy",
        "rasa.core.policies.unexpected_intent_policy",
    }
)
# Packages the stand-in replaces. thinc (spaCy) probes for TensorFlow by
# importing ``tensorflow.experimental.dlpack``: that one import fails, so thinc
# sees no TensorFlow instead of a stand-in it would try to use.
STAND_IN_PACKAGES = ("tensorflow", "keras")
PROBE_MODULES = frozenset({"tensorflow.experimental.dlpack"})


class TensorFlowNotLoaded(RuntimeError):
    """TensorFlow was used in a process that decided, from its model, not to load it."""


# -- which models need TensorFlow --------------------------------------------------------------


def model_archive(argv: Sequence[str], default_dir: Path = Path("models")) -> Optional[Path]:
    """The model archive ``rasa run`` / ``rasa shell`` would load for these arguments.

    ``--model`` / ``-m`` names an archive or a directory; without it Rasa uses
    ``models/``. In a directory Rasa takes the newest ``*.tar.gz`` by ctime
    (``rasa.model.get_latest_model``); the same rule here.
    """
    path: Optional[Path] = None
    for index, arg in enumerate(argv):
        if arg in ("-m", "--model") and index + 1 < len(argv):
            path = Path(argv[index + 1])
        elif arg.startswith("--model="):
            path = Path(arg.split("=", 1)[1])
    path = path if path is not None else default_dir
    if path.is_dir():
        archives = list(path.glob("*.tar.gz"))
        return max(archives, key=os.path.getctime) if archives else None
    return path if path.is_file() else None


def model_components(archive: Path) -> list[str]:
    """The classes (``module.Class``) of the model's prediction graph, from its ``metadata.json``."""
    with tarfile.open(archive, "r:gz") as tar:
        member = next((m for m in tar if Path(m.name).name == "metadata.json" and m.isfile()), None)
        if member is None:
            raise ValueError(f"{archive}: no metadata.json in the model archive")
        handle = tar.extractfile(member)
        metadata = json.load(handle) if handle else {}
    nodes = metadata.get("predict_schema", {}).get("nodes", {})
    return sorted({node["uses"] for node in nodes.values() if isinstance(node, dict) and "uses" in node})


def _imported_modules(source: str) -> Iterable[str]:
    """Every module the source imports; for ``from a import b`` both ``a`` and ``a.b`` (b may be a module)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _tensorflow_import(name: str) -> bool:
    top = name.split(".")[0]
    if top in STAND_IN_PACKAGES or top.startswith("tensorflow_"):
        return True
    if any(name == module or name.startswith(module + ".") for module in TENSORFLOW_COMPONENT_MODULES):
        return True
    # rasa.utils.tensorflow holds Rasa's model code; only its constants are plain Python.
    constants = "rasa.utils.tensorflow.constants"
    return name.startswith("rasa.utils.tensorflow.") and not (name == constants or name.startswith(constants + "."))


def module_needs_tensorflow(module: str) -> bool:
    """Whether the module defining a component runs TensorFlow.

    Rasa's own modules: exactly :data:`TENSORFLOW_COMPONENT_MODULES`. Any other
    module (this project's ``components``, a plug-in): whether its source
    imports TensorFlow, Keras or Rasa's TensorFlow code; a module whose source
    cannot be read counts as needing it.
    """
    if module == "rasa" or module.startswith("rasa."):
        return module in TENSORFLOW_COMPONENT_MODULES
    try:
        spec = importlib.util.find_spec(module)
        source = Path(spec.origin).read_text(encoding="utf-8") if spec and spec.origin else None
    except (ImportError, ValueError, OSError):
        source = None
    if source is None:
        return True
    try:
        return any(_tensorflow_import(name) for name in _imported_modules(source))
    except SyntaxError:
        return True


def components_needing_tensorflow(components: Iterable[str]) -> list[str]:
    """The components (``module.Class``) among these that run TensorFlow."""
    return [name for name in components if module_needs_tensorflow(name.rpartition(".")[0])]


# -- the stand-in --------------------------------------------------------------------------------


def _not_loaded(what: str) -> TensorFlowNotLoaded:
    return TensorFlowNotLoaded(
        f"{what} was used, but TensorFlow was not loaded because the model has no TensorFlow "
        f"component (ops/tensorflow_free.py). Start with {FORCE_ENV}=1 to load it."
    )


class _StandInType(type):
    """Classes that stand for TensorFlow names: they can be subclassed and named, not used."""

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _stand_in(cls, name)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if "_tensorflow_name" in cls.__dict__:
            raise _not_loaded(cls.__qualname__)
        base = next(c for c in cls.__mro__ if "_tensorflow_name" in c.__dict__)  # a class built on one
        raise _not_loaded(f"{cls.__module__}.{cls.__qualname__} (a {base.__qualname__})")


class _StandIn(metaclass=_StandInType):
    pass


def _stand_in(owner: Any, name: str) -> type:
    qualname = f"{getattr(owner, '__qualname__', None) or owner.__name__}.{name}"
    namespace = {"__module__": "tensorflow", "__qualname__": qualname, "_tensorflow_name": True}
    cls = _StandInType(name, (_StandIn,), namespace)
    setattr(owner, name, cls)  # the same object each time it is looked up
    return cls


class _StandInModule(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _stand_in(self, name)


class _StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the stand-in for every ``tensorflow`` / ``keras`` module."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Optional[importlib.machinery.ModuleSpec]:
        if fullname.split(".")[0] not in STAND_IN_PACKAGES:
            return None
        if fullname in PROBE_MODULES:
            raise ImportError(f"{fullname}: TensorFlow is not loaded in this process")
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = _StandInModule(spec.name)
        module.__path__ = []  # a package, so submodule imports come back here
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run: every attribute is made on first lookup."""


def install_stand_in() -> None:
    """Put the stand-in in front of the real packages (before anything imports them)."""
    loaded = [name for name in sys.modules if name.split(".")[0] in STAND_IN_PACKAGES]
    if loaded:
        raise RuntimeError(f"TensorFlow is already imported ({loaded[0]}); the stand-in must come first")
    if not any(isinstance(finder, _StandInFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _StandInFinder())


def tensorflow_loaded() -> bool:
    """Whether this process runs the real TensorFlow (false once the stand-in is in place)."""
    return not any(isinstance(finder, _StandInFinder) for finder in sys.meta_path)


# -- the decision -------------------------------------------------------------------------------


def model_without_tensorflow(argv: Sequence[str]) -> Optional[Path]:
    """The model archive these Rasa arguments serve, if it can be served without TensorFlow.

    Only ``run`` and ``shell`` serve a model; every other command (``train``,
    ``test``, ...) needs the real TensorFlow, as does a model with any
    TensorFlow component, one whose components cannot be read (Rasa reports
    that itself), and any process started with ``LOAD_TENSORFLOW=1``.
    """
    if not argv or argv[0] not in ("run", "shell") or os.environ.get(FORCE_ENV, "") not in ("", "0"):
        return None
    archive = model_archive(argv[1:])
    if archive is None:
        return None
    try:
        components = model_components(archive)
    except (OSError, tarfile.TarError, ValueError) as err:
        logger.debug("Loading TensorFlow: cannot read the model's components (%s)", err)
        return None
    if not components or components_needing_tensorflow(components):
        return None
    return archive


def prepare(argv: Sequence[str]) -> bool:
    """Before Rasa is imported: leave TensorFlow out if the model to serve needs none.

    Returns whether the stand-in was installed.
    """
    archive = model_without_tensorflow(argv)
    if archive is None:
        return False
    install_stand_in()
    # Rasa sets up logging later; this one line goes straight to stderr.
    print(f"{archive} has no TensorFlow component: serving it without loading TensorFlow.", file=sys.stderr)
    return True
