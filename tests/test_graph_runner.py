"""ops/graph_runner.py: the planned runner gives what Rasa's dask runner gives (plain tests).

A small graph in the shape of Rasa's prediction graphs - an input, a shared
provider several nodes need, a chain, a node off the targets' path - is run by
both runners; the real model's graph is run by the planned runner in every
server test (``ops/rasa_server.py`` installs it).
"""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
from rasa.engine.exceptions import GraphComponentException, GraphRunError
from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage

from ops.graph_runner import PlannedGraphRunner

CALLS: List[str] = []


class Step(GraphComponent):
    """Appends its name to what it gets; counts its calls."""

    def __init__(self, name: str) -> None:
        self.name = name

    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: Any, resource: Any, execution_context: Any) -> Step:
        return cls(config["name"])

    def provide(self) -> str:
        CALLS.append(self.name)
        return self.name

    def process(self, messages: List[str], model: str) -> List[str]:
        CALLS.append(self.name)
        if "explode" in messages:
            raise ValueError("a component failed")
        return [*messages, f"{self.name}({model})"]


def node(name: str, needs: Dict[str, str], fn: str = "process", target: bool = False) -> SchemaNode:
    return SchemaNode(needs=needs, uses=Step, constructor_name="create", fn=fn, config={"name": name}, is_target=target)


SCHEMA = GraphSchema(
    {
        "provider": node("provider", {}, fn="provide"),
        "first": node("first", {"messages": "__message__", "model": "provider"}),
        "second": node("second", {"messages": "first", "model": "provider"}),
        "third": node("third", {"messages": "second", "model": "provider"}, target=True),
        "elsewhere": node("elsewhere", {"messages": "__message__", "model": "provider"}),
    }
)


@pytest.fixture(params=[DaskGraphRunner, PlannedGraphRunner], ids=["dask", "planned"])
def runner(request, tmp_path):
    return request.param.create(SCHEMA, LocalModelStorage(tmp_path), ExecutionContext(SCHEMA, "test"))


@pytest.fixture
def both(tmp_path):
    context = ExecutionContext(SCHEMA, "test")
    return [cls.create(SCHEMA, LocalModelStorage(tmp_path), context) for cls in (DaskGraphRunner, PlannedGraphRunner)]


@pytest.mark.parametrize("targets", [None, ["third"], ["first", "third"], ["elsewhere"], ["provider"]])
def test_same_outputs_and_only_the_needed_nodes_run(both, targets):
    results = []
    for runner in both:
        CALLS.clear()
        outputs = runner.run(inputs={"__message__": ["hi"]}, targets=targets)
        results.append((outputs, sorted(CALLS)))
    assert results[0] == results[1]
    assert results[1][0]  # something was computed


def test_dependencies_run_first_and_each_node_once(tmp_path):
    runner = PlannedGraphRunner.create(SCHEMA, LocalModelStorage(tmp_path), ExecutionContext(SCHEMA, "test"))
    CALLS.clear()
    outputs = runner.run(inputs={"__message__": ["hi"]}, targets=["third", "elsewhere"])
    assert CALLS.index("provider") < CALLS.index("first") < CALLS.index("second") < CALLS.index("third")
    assert len(CALLS) == len(set(CALLS)) == 5
    assert outputs["third"] == ["hi", "first(provider)", "second(provider)", "third(provider)"]
    # The plan is computed once per target list and reused.
    assert runner.plan(("third", "elsewhere")) is runner.plan(("third", "elsewhere"))


def test_a_failing_component_fails_the_same_way(runner):
    with pytest.raises(GraphComponentException):
        runner.run(inputs={"__message__": ["explode"]}, targets=["third"])


def test_a_missing_input_is_reported_by_the_node(runner):
    with pytest.raises(GraphRunError, match="Missing input"):
        runner.run(inputs={}, targets=["first"])


def test_an_input_named_like_a_node_is_refused(runner):
    with pytest.raises(GraphRunError, match="clashes with a node name"):
        runner.run(inputs={"__message__": "first"}, targets=["third"])
