"""Static resource estimates and budgets: parameters, training memory, depth. Pure arithmetic on the
static shapes; nothing is allocated, so a spec asking for 10^11 units is refused in milliseconds (without a
budget, by the default limit DEFAULT_MAX_PARAMS).

Training memory (bytes, float32) is estimated as

    weights + gradients + optimizer slots   = params * 4 * (2 + slots)
    activations kept for the backward pass  = sum of every layer's output size * batch_size * 4 * 2

where `slots` is the optimizer's state per weight (Adam-like: 2, SGD with momentum and RMSprop: 1,
plain SGD: 0). It is a planning figure (frameworks add workspace and fuse some activations away), close
enough to refuse models that cannot fit, not a prediction to the megabyte.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..diagnostics import Diagnostic
from ..loader import Document
from ..schema import Spec
from .graph import Graph
from .shapes import NodeInfo

BYTES = 4
SLOTS = {"SGD": 0, "Adagrad": 1, "Adadelta": 2, "RMSprop": 1, "Adam": 2, "AdamW": 2, "Nadam": 2, "Adamax": 2}


@dataclass(frozen=True)
class Estimate:
    params: int
    weights_bytes: int
    optimizer_bytes: int
    activations_bytes: int
    batch_size: int
    depth: int

    @property
    def training_bytes(self) -> int:
        return self.weights_bytes + self.optimizer_bytes + self.activations_bytes

    def as_json(self) -> dict:
        return {"params": self.params, "batch_size": self.batch_size, "depth": self.depth,
                "weights_mb": _mb(self.weights_bytes), "optimizer_mb": _mb(self.optimizer_bytes),
                "activations_mb": _mb(self.activations_bytes), "training_mb": _mb(self.training_bytes)}


def _mb(n: int) -> float:
    return round(n / 2**20, 3)


def _slots(spec: Spec) -> int:
    if spec.compile is None:
        return 2
    opt = spec.compile.optimizer
    if opt.type in ("SGD", "RMSprop") and getattr(opt, "momentum", 0):
        return SLOTS[opt.type] + 1
    return SLOTS.get(opt.type, 2)


def depth(graph: Graph) -> int:
    """Layers on the longest path from an input to an output (inputs not counted)."""
    longest: dict[str, int] = {}
    for node in graph.nodes:
        here = 0 if not node.inputs else 1 + max(longest[i] for i in node.inputs)
        longest[node.name] = here
    return max((longest[o] for o in graph.outputs), default=0)


def estimate(spec: Spec, graph: Graph, info: dict[str, NodeInfo], batch_size: int | None = None) -> Estimate:
    batch = batch_size or spec.train.batch_size
    params = sum(i.params.total for i in info.values())
    trainable = sum(i.params.trainable for i in info.values())
    activations = 0
    for item in info.values():
        size = 1
        for d in item.shape[1:]:
            size *= d or 1  # an unknown length counts as 1: a lower bound
        activations += size
    return Estimate(
        params=params,
        weights_bytes=params * BYTES,
        optimizer_bytes=trainable * BYTES * (1 + _slots(spec)),  # gradients + slots
        activations_bytes=activations * batch * BYTES * 2,
        batch_size=batch,
        depth=depth(graph),
    )


def _human(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if n < 1024 or unit == "PB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{n} B"
        n /= 1024
    return str(n)


def check_budget(spec: Spec, graph: Graph, info: dict[str, NodeInfo], doc: Document,
                 overrides: dict | None = None) -> list[Diagnostic]:
    """Budget errors: the spec's `budget:` section, overridden by the command line."""
    limits = spec.budget.model_dump() if spec.budget is not None else {}
    for key, value in (overrides or {}).items():
        if value is not None:
            limits[key] = value
    out = _sanity(graph, info, doc) if limits.get("max_params") is None else []
    if not any(v is not None for v in limits.values()):
        return out
    e = estimate(spec, graph, info, limits.get("batch_size"))

    def located(code, message, loc, **kw):
        # Limits from the command line have no place in the file: report them without a position.
        if loc == ():
            from ..diagnostics import diag

            return diag(code, message, file=doc.path, **kw)
        return doc.error(code, message, loc, **kw)

    def where(key: str) -> tuple:
        """The limit's own key when the spec sets it; nowhere when it came from the command line."""
        from_spec = spec.budget is not None and getattr(spec.budget, key) is not None and not (overrides or {}).get(key)
        return ("budget", key) if from_spec else ()

    if limits.get("max_params") is not None and e.params > limits["max_params"]:
        top = max(info.items(), key=lambda kv: kv[1].params.total)
        node = graph.by_name[top[0]]
        out.append(doc.error("E410", f"the model has {e.params:,} parameters; the budget allows "
                             f"{limits['max_params']:,}. The largest layer is '{top[0]}' with "
                             f"{top[1].params.total:,}", node.loc))
    if limits.get("max_memory_mb") is not None and e.training_bytes > limits["max_memory_mb"] * 2**20:
        out.append(located("E411", f"training needs about {_human(e.training_bytes)} at batch size "
                             f"{e.batch_size} (weights {_human(e.weights_bytes)}, gradients and optimizer "
                             f"{_human(e.optimizer_bytes)}, activations {_human(e.activations_bytes)}); the "
                             f"budget allows {limits['max_memory_mb']:g} MB", where("max_memory_mb"),
                             help="lower the batch size or the layer sizes"))
    if limits.get("max_depth") is not None and e.depth > limits["max_depth"]:
        out.append(located("E412", f"the model is {e.depth} layers deep; the budget allows "
                             f"{limits['max_depth']}", where("max_depth")))
    return out


DEFAULT_MAX_PARAMS = 10**10  # 40 GB of float32 weights, 160 GB to train with Adam: more than one machine holds


def _sanity(graph: Graph, info: dict[str, NodeInfo], doc: Document) -> list[Diagnostic]:
    """E413 without a `max_params` budget: a model no single machine can train (a Dense of 10^12 units)."""
    params = sum(i.params.total for i in info.values())
    if params <= DEFAULT_MAX_PARAMS:
        return []
    top = max(info.items(), key=lambda kv: kv[1].params.total)
    return [doc.error("E413", f"the model has {params:,} parameters ({_human(params * BYTES)} of float32 weights), "
                      f"more than the {DEFAULT_MAX_PARAMS:,} specc accepts without a budget. The largest layer is "
                      f"'{top[0]}' with {top[1].params.total:,}", graph.by_name[top[0]].loc,
                      help="check the layer's sizes; to allow it, set budget.max_params (or --max-params)")]


def physical_memory() -> int | None:
    import os

    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not available on this platform
        return None


def fits_in_memory(spec: Spec, graph: Graph, info: dict[str, NodeInfo]) -> str | None:
    """A message when the weights alone cannot fit in this machine's memory (checked before building)."""
    total = physical_memory()
    e = estimate(spec, graph, info)
    if total is not None and e.weights_bytes > total:
        return (f"the model's {e.params:,} parameters need {_human(e.weights_bytes)} for the weights alone; this "
                f"machine has {_human(total)} of memory")
    return None
