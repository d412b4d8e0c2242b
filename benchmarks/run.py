"""specc against hand-written Keras, and the checker's speed. Ratios are the figures; absolute times on
shared CPUs are noisy.

    python benchmarks/run.py                  # all cases, 2 rounds each
    python benchmarks/run.py --quick          # smaller data, 1 round (a smoke test)
    python benchmarks/run.py --cases cnn mlp --rounds 3 --json results.json
    python benchmarks/run.py --only checking  # only the validate/summary/diff timings

Training: for each reference spec in benchmarks/specs, `specc train` and the hand-written twin
(benchmarks/twins.py) run as separate processes, alternating, on the same synthetic data. Reported:
whole-process wall time, time to the first training step, steady-state samples/s (median over
epochs after the first), peak memory (max RSS); and the ratio specc / hand-written for each
(for samples/s, above 1 means specc is faster).

Checking: one `specc validate` process on a typical spec, 1,000 specs in one call, `summary` and
`diff` processes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# name -> (spec, sample shape, classes (0 for token ids), samples: full, quick, epochs: full, quick)
CASES = {
    "mlp": ("mlp.yaml", (784,), 10, (24000, 4000), (4, 2)),
    "cnn": ("cnn.yaml", (28, 28, 1), 25, (24000, 4000), (3, 2)),
    "bilstm": ("bilstm.yaml", (200,), 2, (4000, 800), (2, 2)),
    "vgg": ("vgg.yaml", (32, 32, 3), 10, (4000, 800), (2, 2)),
}


def make_data(name: str, n: int, folder: Path) -> Path:
    import numpy as np

    _, shape, classes, _, _ = CASES[name]
    rng = np.random.default_rng(0)
    if name == "bilstm":
        x = rng.integers(1, 10000, (n, *shape)).astype("float32")
    else:
        x = rng.random((n, *shape), dtype="float32")
    y = rng.integers(0, classes, n)
    path = folder / f"{name}.npz"
    np.savez(path, x=x, y=y)
    return path


def run_process(cmd, env, timings: Path) -> dict:
    timings.unlink(missing_ok=True)
    t0 = time.time()
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**env, "SPECC_TIMINGS": str(timings)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.time() - t0
    out, err = proc.communicate()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{err.decode()[-3000:]}")
    events = [json.loads(line) for line in timings.read_text().splitlines()]
    first = next(e["t"] for e in events if e["event"] == "first_step")
    epochs = [e["seconds"] for e in events if e["event"] == "epoch"]
    return {"wall_s": wall, "first_step_s": first - t0, "epoch_s": epochs,
            "peak_rss_mb": usage.ru_maxrss / 1024}


def bench_training(names, rounds: int, quick: bool) -> list[dict]:
    import numpy as np  # noqa: F401 (fail early if missing)

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in names:
            spec_name, _, _, sizes, epoch_counts = CASES[name]
            n, epochs = sizes[1 if quick else 0], epoch_counts[1 if quick else 0]
            data = make_data(name, n, tmp)
            spec = tmp / spec_name
            shutil.copy(HERE / "specs" / spec_name, spec)
            (tmp / "data").mkdir(exist_ok=True)
            shutil.copy(data, tmp / "data" / data.name)
            train_samples = int((n - round(n * 0.1)) * 0.9)
            runs = {"specc": [], "keras": []}
            for r in range(rounds):
                for side in ("specc", "keras") if r % 2 == 0 else ("keras", "specc"):
                    out = tmp / f"{name}-{side}-{r}"
                    if side == "specc":
                        cmd = [sys.executable, "-m", "specc", "train", str(spec), "--run-dir", str(out),
                               "--epochs", str(epochs), "-q"]
                    else:
                        cmd = [sys.executable, str(HERE / "twins.py"), name, str(data), str(out),
                               "--epochs", str(epochs)]
                    runs[side].append(run_process(cmd, env, tmp / "timings.jsonl"))
                    shutil.rmtree(out, ignore_errors=True)
            row = {"case": name, "samples": n, "epochs": epochs}
            for side, items in runs.items():
                steady = [train_samples / s for item in items for s in item["epoch_s"][1:]]
                row[side] = {
                    "wall_s": min(i["wall_s"] for i in items),
                    "first_step_s": min(i["first_step_s"] for i in items),
                    "samples_per_s": statistics.median(steady) if steady else None,
                    "peak_rss_mb": max(i["peak_rss_mb"] for i in items),
                }
            s, k = row["specc"], row["keras"]
            row["ratio"] = {
                "wall": s["wall_s"] / k["wall_s"],
                "first_step": s["first_step_s"] / k["first_step_s"],
                "throughput": (s["samples_per_s"] / k["samples_per_s"]) if s["samples_per_s"] else None,
                "peak_rss": s["peak_rss_mb"] / k["peak_rss_mb"],
            }
            results.append(row)
            print(format_row(row), flush=True)
    return results


def format_row(row: dict) -> str:
    s, k, r = row["specc"], row["keras"], row["ratio"]
    tp = f"{s['samples_per_s']:9.0f} vs {k['samples_per_s']:9.0f}  x{r['throughput']:.3f}" if r["throughput"] else "n/a"
    return (f"{row['case']:<7} wall {s['wall_s']:6.1f} s vs {k['wall_s']:6.1f} s  x{r['wall']:.3f} | "
            f"first step {s['first_step_s']:5.1f} vs {k['first_step_s']:5.1f}  x{r['first_step']:.2f} | "
            f"samples/s {tp} | peak RSS {s['peak_rss_mb']:6.0f} vs {k['peak_rss_mb']:6.0f} MB  x{r['peak_rss']:.2f}")


def bench_checking(repeats: int = 5) -> dict:
    env = {**os.environ}
    spec = ROOT / "specs" / "course_cnn.yaml"

    def timed(cmd):
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, check=False)
            best = min(best, time.perf_counter() - t0)
        return best

    cli = [sys.executable, "-m", "specc"]
    out = {
        "python_startup_s": timed([sys.executable, "-c", "pass"]),
        "validate_one_s": timed([*cli, "validate", str(spec)]),
        "summary_one_s": timed([*cli, "summary", str(spec)]),
        "diff_two_s": timed([*cli, "diff", str(spec), str(ROOT / "specs" / "digits_cnn.yaml")]),
    }
    with tempfile.TemporaryDirectory() as tmp:
        specs = sorted((ROOT / "specs").glob("*.yaml"))
        for i in range(1000):
            shutil.copy(specs[i % len(specs)], Path(tmp) / f"spec{i:04d}.yaml")
        out["validate_1000_s"] = timed([*cli, "validate", tmp])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", choices=["training", "checking"])
    parser.add_argument("--json", type=Path, help="Also write the results to this file.")
    args = parser.parse_args()
    import keras

    report = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
        "python": platform.python_version(),
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
    }
    print(f"{report['date']}  {report['machine']}  Python {report['python']}  Keras {report['keras']} "
          f"({report['backend']})", flush=True)
    if args.only != "checking":
        report["training"] = bench_training(args.cases, 1 if args.quick else args.rounds, args.quick)
    if args.only != "training":
        report["checking"] = bench_checking(2 if args.quick else 5)
        for k, v in report["checking"].items():
            print(f"{k:<18} {v:.3f} s")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
