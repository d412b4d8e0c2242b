"""How long `specc runs` takes over many run directories (docs/runs.md reports it).

    python benchmarks/runs_table.py               # 200 runs, 5 repeats
    python benchmarks/runs_table.py --runs 1000

One real run is trained (the digits MLP, 1 epoch); its files are copied N times with a different learning
rate, batch size and metrics in each copy, the way a hand sweep leaves them. Timed: the whole `specc runs DIR`
process (median of the repeats), the same process for `specc --version` (the interpreter and CLI start-up),
and the reading and table building alone, in this process.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = ("run.json", "metrics.json", "history.json", "spec.yaml")


def make_runs(folder: Path, n: int) -> None:
    seed = folder / "seed"
    out = subprocess.run([sys.executable, "-m", "specc", "train", str(ROOT / "specs" / "digits_mlp.yaml"),
                          "--run-dir", str(seed), "--epochs", "1", "-q"], capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        sys.exit(out.stderr)
    spec = (seed / "spec.yaml").read_text()
    info = json.loads((seed / "run.json").read_text())
    metrics = json.loads((seed / "metrics.json").read_text())
    for i in range(n):
        run = folder / "runs" / f"run-{i:04d}"
        run.mkdir(parents=True)
        for name in FILES:
            shutil.copy(seed / name, run / name)
        rate, batch = 10 ** -(2 + (i % 7) / 3), (16, 32, 64)[i % 3]
        text = (spec.replace("learning_rate: 0.001", f"learning_rate: {rate:.6g}")
                .replace("batch_size: 32", f"batch_size: {batch}"))
        (run / "spec.yaml").write_text(text)
        (run / "run.json").write_text(json.dumps({**info, "spec_sha256": hashlib.sha256(text.encode()).hexdigest(),
                                                  "started": f"2026-01-01T{i // 60 % 24:02d}:{i % 60:02d}:00"}))
        test = {k: v * (1 + (i % 13) / 100) for k, v in metrics["test"].items()}
        (run / "metrics.json").write_text(json.dumps({**metrics, "test": test}))


def timed(cmd: list[str], repeats: int) -> tuple[float, float]:
    """Median wall time and CPU time (user + system) of a process: on a shared machine, the CPU time is
    the steadier figure."""
    import resource

    walls, cpus = [], []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if out.returncode:
            sys.exit(out.stderr)
    return round(statistics.median(walls), 3), round(statistics.median(cpus), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_runs(folder, args.runs)
        runs_dir = str(folder / "runs")
        whole = timed([sys.executable, "-m", "specc", "runs", runs_dir], args.repeats)
        start = timed([sys.executable, "-m", "specc", "--version"], args.repeats)
        sys.path.insert(0, str(ROOT))
        from specc import runs as R

        t0 = time.perf_counter()
        found, _ = R.find_runs([Path(runs_dir)])
        columns, rows = R.table(found)
        R.as_text(columns, rows)
        inside = time.perf_counter() - t0
    print(json.dumps({"runs": len(rows), "spec_columns": [c for c in columns if "." in c],
                      "specc_runs_process_wall_cpu_s": whole, "startup_process_wall_cpu_s": start,
                      "read_and_table_s": round(inside, 3), "per_run_ms": round(1000 * inside / len(rows), 2)},
                     indent=2))


if __name__ == "__main__":
    main()
