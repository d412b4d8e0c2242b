"""`specc tune` on an 18-point grid (benchmarks/specs/digits_sweep.yaml: widths x optimizers x learning
rates on the digits MLP, 10 epochs): the grid's best objective and epochs, the same grid with each pruner in
several grid orders (sampler seeds), the per-trial overhead of a worker, and --jobs 2 against --jobs 1.

    python benchmarks/tune.py                 # all of it
    python benchmarks/tune.py --json out.json
    python benchmarks/tune.py --pruners successive_halving --seeds 42 1 2 --no-jobs

For each pruner: the epochs it trained as a share of the grid's, and whether its best complete trial reached
the grid's best objective, per grid order, then a summary line (`meets_40pct`: orders that reach the grid's
best with at most 40% of its epochs). Training is seeded by the spec's `seed` in every run; the sampler's
seed only orders the grid, and the pruner sees the trials in that order.

Per-trial overhead: the time between two trials' ends (Optuna's completion times) less the second trial's
own run (run.json `seconds`: data, model, fit, evaluation, saving and plots, what `specc train` does after
its imports): asking Optuna, the static check of the point, clearing the Keras session, telling Optuna,
the run directory's bookkeeping. The first trial (which imports TensorFlow) is left out.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SPEC = HERE / "specs" / "digits_sweep.yaml"
PRUNERS = {
    "median": "{type: median, n_startup_trials: 1, n_warmup_steps: 1}",
    "successive_halving": "{type: successive_halving, min_resource: 1, reduction_factor: 3}",
}


def sweep(folder: Path, name: str, args: list[str], spec: Path = SPEC) -> dict:
    out_dir = folder / name
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CI": "1", "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "specc", "tune", str(spec), "--sweep-dir", str(out_dir), "-q",
                           *args], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{name}: specc tune failed:\n{proc.stderr}")
    results = json.loads((out_dir / "results.json").read_text())
    trials = results["trials"]
    return {"name": name, "wall_s": round(wall, 2), "trials": len(trials),
            "states": {s: sum(t["state"] == s for t in trials) for s in {t["state"] for t in trials}},
            "epochs": sum(t["epochs"] or 0 for t in trials), "best": results["best"]["value"],
            "best_params": results["best"]["params"], "overhead_s": overhead(out_dir, trials)}


def overhead(sweep_dir: Path, trials: list[dict]) -> dict:
    """Per-trial overhead (seconds) from Optuna's completion times and each run's own time."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    from specc.runners.tune import load_sweep, open_storage

    info = load_sweep(sweep_dir)
    study = optuna.load_study(study_name=info.study, storage=open_storage(info.storage, sweep_dir))
    done = sorted((t for t in study.trials if t.datetime_complete), key=lambda t: t.datetime_complete)
    gaps = []
    for prev, cur in zip(done, done[1:]):
        run = json.loads((sweep_dir / cur.user_attrs["run_dir"] / "run.json").read_text())
        if "seconds" in run:
            gaps.append((cur.datetime_complete - prev.datetime_complete).total_seconds() - run["seconds"])
    gaps.sort()
    return {"median": round(gaps[len(gaps) // 2], 3), "max": round(gaps[-1], 3), "n": len(gaps)} if gaps else {}


def with_pruner(folder: Path, pruner: str, seed: int) -> Path:
    text = SPEC.read_text().replace("  sampler: grid\n", f"  sampler: {{type: grid, seed: {seed}}}\n"
                                                          f"  pruner: {PRUNERS[pruner]}\n")
    path = folder / f"sweep-{pruner}-{seed}.yaml"
    path.write_text(text)
    return path


def summarize(pruner: str, runs: list[dict]) -> dict:
    """One pruner over the grid orders: epochs as a share of the grid's, and how often it reached the best."""
    shares = sorted(r["epochs_vs_grid"] for r in runs)
    return {"pruner": f"{pruner} {PRUNERS[pruner]}", "orders": len(runs),
            "epochs_vs_grid": {"min": shares[0], "median": shares[len(shares) // 2], "max": shares[-1],
                               "mean": round(sum(shares) / len(shares), 3)},
            "reaches_grid_best": sum(r["reaches_grid_best"] for r in runs),
            "meets_40pct": sum(r["reaches_grid_best"] and r["epochs_vs_grid"] <= 0.4 for r in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--pruners", nargs="+", choices=list(PRUNERS), default=list(PRUNERS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[42, 1, 2, 3, 4],
                        help="Sampler seeds (grid orders) for the pruned sweeps.")
    parser.add_argument("--no-jobs", action="store_true", help="Skip the --jobs 2 run.")
    a = parser.parse_args()
    out = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        grid = sweep(folder, "grid", [])
        out["runs"].append(grid)
        print(json.dumps(grid), flush=True)
        for pruner in a.pruners:
            runs = []
            for seed in a.seeds:
                run = sweep(folder, f"grid+{pruner} seed {seed}", [], spec=with_pruner(folder, pruner, seed))
                run["epochs_vs_grid"] = round(run["epochs"] / grid["epochs"], 3)
                run["reaches_grid_best"] = run["best"] == grid["best"]
                runs.append(run)
                print(json.dumps(run), flush=True)
            out["runs"] += runs
            out.setdefault("pruners", {})[pruner] = summary = summarize(pruner, runs)
            print(json.dumps(summary), flush=True)
        if not a.no_jobs:
            run = sweep(folder, "grid --jobs 2", ["--jobs", "2"])
            run["speedup_vs_jobs_1"] = round(grid["wall_s"] / run["wall_s"], 2)
            out["runs"].append(run)
            print(json.dumps(run), flush=True)
    if a.json:
        a.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
