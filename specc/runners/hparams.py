"""TensorBoard's HParams view of a sweep: `tensorboard --logdir SWEEP_DIR/tensorboard`.

Written from the sweep directory's files when `specc tune` ends (and again after a resume): the experiment
(each searched key with the values it took, the objective and the test metrics) in the folder itself, and one
session per trial that has a value in ``trial-NNNN/`` (its values, its objective and test metrics, and each
epoch's metrics from its history as scalars). Uses the tensorboard package's own protobuf writers: no
TensorFlow.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

FOLDER = "tensorboard"


def available() -> bool:
    import importlib.util

    return importlib.util.find_spec("tensorboard") is not None


def _domain(values: list):
    from tensorboard.plugins.hparams import summary_v2 as hp

    kinds = {type(v) for v in values}
    if len(kinds) == 1 and kinds <= {int, float, str, bool}:
        return hp.Discrete(sorted(set(values)))
    return None


def _value(value):
    return value if isinstance(value, (int, float, str, bool)) else str(value)


def write_hparams(sweep_dir: Path) -> Path | None:
    """Write SWEEP_DIR/tensorboard/ (replacing an older one); returns it, or None without the tensorboard package
    or without a trial that has a value."""
    if not available():
        return None
    from tensorboard.plugins.hparams import summary_v2 as hp
    from tensorboard.plugins.scalar import summary_v2 as scalar

    from ..runs import read_sweep

    sweep = read_sweep(sweep_dir)
    metric = sweep.objective.get("metric") or "objective"
    trials = [t for t in sweep.trials if isinstance((t.trial or {}).get("value"), (int, float))]
    if not trials:
        return None
    keys: dict[str, list] = {}
    for run in trials:
        for key, value in ((run.trial or {}).get("params") or {}).items():
            keys.setdefault(key, []).append(_value(value))
    tests: dict[str, None] = {}
    for run in trials:
        tests.update(dict.fromkeys(f"test_{k}" for k in run.split("test")))
    root = Path(sweep_dir) / FOLDER
    if root.exists():
        shutil.rmtree(root)
    config = hp.hparams_config_pb([hp.HParam(k, _domain(v)) for k, v in keys.items()],
                                  [hp.Metric(metric, display_name=f"{metric} (objective)"),
                                   *(hp.Metric(t) for t in tests)])
    _write(root, [(config, 0)])
    for run in trials:
        t = run.trial
        values = {k: _value(v) for k, v in (t.get("params") or {}).items()}
        events = [(hp.hparams_pb(values, trial_id=f"trial {t.get('number')}"), 0)]
        last = run.epochs or 0
        events.append((scalar.scalar_pb(metric, float(t["value"])), last))
        events += [(scalar.scalar_pb(f"test_{k}", float(v)), last) for k, v in run.split("test").items()]
        for name, series in run.history().items():
            events += [(scalar.scalar_pb(f"epoch_{name}", v), i + 1) for i, v in enumerate(series) if v == v]
        _write(root / f"trial-{int(t.get('number', 0)):04d}", events)
    return root


def _write(folder: Path, summaries: list) -> None:
    from tensorboard.compat.proto import event_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    folder.mkdir(parents=True, exist_ok=True)
    writer = EventFileWriter(str(folder))
    now = time.time()
    for summary, step in summaries:
        writer.add_event(event_pb2.Event(summary=summary, step=step, wall_time=now))
    writer.close()
