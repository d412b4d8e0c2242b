"""What a training run writes to survive an interruption, and reads back to resume.

Everything that must survive an interruption is written at the end of an epoch as one unit: the model (with
optimizer state) and the extra state Keras does not save (random-generator states of dropout and the like,
callback counters), each to an epoch-numbered file, then `state.json` naming them, renamed into place last.
Whatever kills the process, `state.json` names a complete epoch. The history is written after every epoch.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from .files import atomic_keras_save, atomic_write_bytes, atomic_write_json, atomic_write_text


def snapshot(model) -> list:
    """A copy of the model's weights where they live (``model.get_weights()`` order): on a GPU, no transfer to
    the host. VGG16's epochs under specc took about 0.6 s longer than by hand on an H200, in float32 and mixed
    alike, and ``get_weights()`` of VGG16 takes 2 s on two CPU cores (this copy 0.3 s). The copy costs one more
    set of weights in device memory."""
    import keras

    return [keras.ops.copy(v) for v in model.weights]


def plain(value):
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _unplain(value):
    if isinstance(value, str) and value in ("inf", "-inf", "nan"):
        return float(value)
    if isinstance(value, dict):
        return {k: _unplain(v) for k, v in value.items()}
    return value


def write_history(run_dir: Path, history: dict, durable: bool = True) -> None:
    """history.json and history.csv; ``durable=False`` for the rewrite after every epoch (no fsync: on a run of
    short epochs two fsyncs an epoch cost more than the writes; the final history is written durably)."""
    import csv
    import io

    atomic_write_json(run_dir / "history.json", history, durable)
    keys = list(history)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["epoch", *keys])
    for i in range(len(history[keys[0]]) if keys else 0):
        w.writerow([i + 1, *(history[k][i] if i < len(history[k]) else "" for k in keys)])
    atomic_write_text(run_dir / "history.csv", out.getvalue(), durable)


def seed_states(model) -> list:
    """Random-generator states (dropout, noise layers). Keras does not save them in .keras files."""
    return [v for v in model.variables if "seed_generator_state" in v.path]


def save_state(ctx, model, epochs_done: int, stateful) -> None:
    import io

    import numpy as np

    state_dir = ctx.run_dir / "state"
    state_dir.mkdir(exist_ok=True)
    stem = f"epoch-{epochs_done:04d}"
    same = ctx.saved[1] if ctx.saved and ctx.saved[0] == epochs_done else None  # best.keras of this very epoch
    atomic_keras_save(model, state_dir / f"{stem}.keras", same_as=same)
    ctx.saved = (epochs_done, state_dir / f"{stem}.keras")
    arrays = {f"seed_{i}": np.asarray(v.numpy()) for i, v in enumerate(seed_states(model))}
    for cb in stateful:
        weights = getattr(cb, "best_weights", None)
        if weights is not None and cb.__class__.__name__ == "Early":
            arrays.update({f"best_{i}": np.asarray(w) for i, w in enumerate(weights)})
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(state_dir / f"{stem}.npz", buf.getvalue())
    extra = {}
    for cb in stateful:
        extra.update(cb.state())
    atomic_write_json(ctx.run_dir / "state.json", {
        "epochs_done": epochs_done,
        "model": f"state/{stem}.keras",
        "arrays": f"state/{stem}.npz",
        "callbacks": extra,
        "history": ctx.history,
        "best_epoch": ctx.best_epoch,
    })
    for old in state_dir.iterdir():  # only after state.json names the new files
        if old.stem != stem and old.suffix in (".keras", ".npz"):
            old.unlink(missing_ok=True)


def load_state(run_dir: Path) -> dict:
    path = run_dir / "state.json"
    state = json.loads(path.read_text())
    state["callbacks"] = _unplain(state.get("callbacks", {}))
    return state
