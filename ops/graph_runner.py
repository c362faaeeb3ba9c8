"""Rasa's model graph run in a fixed order, planned once, instead of scheduled by dask on every call.

The Rasa server runs its model graph three times a turn (NLU, then a policy
prediction before and after the custom action). Rasa 3.6's
``DaskGraphRunner.run`` each time works out which nodes the targets need (a
recursive walk that revisits shared dependencies), builds a dask task graph
and hands it to ``dask.get``, whose scheduler then orders and dispatches the
handful of nodes one by one. With this project's small, light nodes that
bookkeeping cost more than many of the nodes themselves (bench/NOTES.md).

:class:`PlannedGraphRunner` keeps Rasa's runner - the same nodes, created the
same way, the same inputs, outputs and errors - and replaces only the
scheduling: for each list of targets it computes once which nodes to run and
in what order (dependencies first), then runs them in that order in the
calling thread, as ``dask.get`` (synchronous) does. The nodes are pure
functions of their inputs, so the order among independent nodes does not
matter.

``ops/rasa_server.py`` installs it for the server (``rasa run`` / ``rasa
shell``); training and ``rasa test`` keep Rasa's own runner.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphNode
from rasa.engine.runner.dask import DaskGraphRunner

# (node name, the node, the names of the nodes or inputs it needs, in argument order)
Step = Tuple[str, GraphNode, Tuple[str, ...]]


class PlannedGraphRunner(DaskGraphRunner):
    """``DaskGraphRunner`` with each target list's execution order computed once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: Dict[Tuple[str, ...], List[Step]] = {}

    def plan(self, targets: Tuple[str, ...]) -> List[Step]:
        """The nodes the targets need, each after everything it needs (memoised per target list)."""
        plan = self._plans.get(targets)
        if plan is None:
            nodes = self._graph_schema.minimal_graph_schema(list(targets)).nodes
            plan, placed = [], set()

            def place(name: str) -> None:
                if name in placed or name not in nodes:
                    return  # done already, or an input placeholder
                placed.add(name)
                for need in nodes[name].needs.values():
                    place(need)
                plan.append((name, self._instantiated_nodes[name], tuple(nodes[name].needs.values())))

            for target in targets:
                place(target)
            self._plans[targets] = plan
        return plan

    def run(self, inputs: Optional[Dict[str, Any]] = None, targets: Optional[List[str]] = None) -> Dict[str, Any]:
        """Runs the graph (same contract as ``DaskGraphRunner.run``)."""
        run_targets = tuple(targets if targets else self._graph_schema.target_names)
        plan = self.plan(run_targets)
        outputs: Dict[str, Any] = {}
        node_names = {name for name, _, _ in plan}
        for name, value in (inputs or {}).items():
            if isinstance(value, str) and value in node_names:
                raise GraphRunError(
                    f"Input value '{value}' clashes with a node name. Make sure that none of the input names "
                    f"passed to the `run` method are the same as node names in the graph schema."
                )
            outputs[name] = (name, value)  # what dask hands a node for an input: (name, value)
        try:
            for name, node, needs in plan:
                if name not in outputs:  # an input of the same name stands in for the node, as with dask
                    # A name that is neither a node nor an input reaches the node as the bare name,
                    # as dask passes it; GraphNode then reports the missing input.
                    outputs[name] = node(*(outputs.get(need, need) for need in needs))
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e
        return dict(outputs[target] for target in run_targets if target in outputs)
