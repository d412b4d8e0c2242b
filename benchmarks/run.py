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
(for samples/s, above 1 means specc is faster). The first step is also compared without Keras's
import (its duration taken out on each side, median over rounds): the import takes seconds and
varies by tenths between processes, more than the difference measured.

Checking: one `specc validate` process on a typical spec, 1,000 specs in one call, `summary` and
`diff` processes, each also as a ratio to `python -c "import tensorflow"` timed in the same run.
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

from specc.runners.backend import OPTIONAL_PACKAGES

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# name -> spec, sample shape, classes (0 for token ids), and (samples, epochs) for each size
CASES = {
    "mlp": ("mlp.yaml", (784,), 10, {"cpu": (24000, 4), "quick": (4000, 2), "gpu": (60000, 4)}),
    "cnn": ("cnn.yaml", (28, 28, 1), 25, {"cpu": (24000, 3), "quick": (4000, 2), "gpu": (60000, 4)}),
    "bilstm": ("bilstm.yaml", (200,), 2, {"cpu": (4000, 2), "quick": (800, 2), "gpu": (8000, 3)}),
    "vgg": ("vgg.yaml", (32, 32, 3), 10, {"cpu": (4000, 2), "quick": (800, 2), "gpu": (20000, 3)}),
    "vgg16": ("vgg16.yaml", (224, 224, 3), 1000, {"cpu": (400, 2), "quick": (80, 2), "gpu": (1600, 3)}),
    # the short run people make while they iterate: scikit-learn's 1,797 digits (real data), about 15 s
    "digits": ("digits.yaml", (64,), 10, {"cpu": (1797, 40), "quick": (1797, 5), "gpu": (1797, 40)}),
}
DEFAULT_CASES = {"cpu": ["digits", "mlp", "cnn", "bilstm", "vgg"], "gpu": ["mlp", "cnn", "bilstm", "vgg16"]}
RECURRENT = {"bilstm"}

# variant -> (specc's arguments, the hand-written twin's arguments it is compared with)
VARIANTS = {
    "float32": ([], ["--precision", "float32"]),
    # specc against a twin that also keeps Keras's import from loading the optional packages specc leaves out
    # (specc.runners.backend.OPTIONAL_PACKAGES): what specc itself adds, with that saving on both sides
    "lean": ([], ["--precision", "float32", "--without", ",".join(OPTIONAL_PACKAGES)]),
    "mixed": (["--set", "train.precision=mixed_bfloat16"], ["--precision", "mixed_bfloat16"]),
    "fast": (["--fast"], ["--precision", "mixed_bfloat16"]),
}


def make_data(name: str, n: int, folder: Path) -> Path:
    import numpy as np

    _, shape, classes, _ = CASES[name]
    rng = np.random.default_rng(0)
    if name == "digits":  # the real digits, in their own order, pixels 0..16 scaled to 0..1
        from sklearn.datasets import load_digits

        digits = load_digits()
        x, y = (digits.data[:n] / 16.0).astype("float32"), digits.target[:n]
    elif name == "bilstm":
        x = rng.integers(1, 10000, (n, *shape)).astype("float32")
    else:
        x = rng.random((n, *shape), dtype="float32")
    if name != "digits":
        y = rng.integers(0, classes, n)
    path = folder / f"{name}.npz"
    np.savez(path, x=x, y=y)
    return path


def installed_env() -> dict:
    """The environment of the timed processes, with specc's modules compiled to bytecode first, as pip does when
    it installs a package (TensorFlow's are): under PYTHONDONTWRITEBYTECODE a source checkout would otherwise
    compile specc's modules in every process, about 0.1 s that no installed copy pays."""
    import compileall

    compileall.compile_dir(ROOT / "specc", quiet=1)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "TF_CPP_MIN_LOG_LEVEL": "3"}


def run_process(cmd, env, timings: Path) -> dict:
    """One training process: its wall time, first step, epoch times and peak RSS; or the error it ended with."""
    timings.unlink(missing_ok=True)
    with tempfile.TemporaryFile() as log:
        t0 = time.time()
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**env, "SPECC_TIMINGS": str(timings)}, stdout=log, stderr=log)
        _, status, usage = os.wait4(proc.pid, 0)  # this process's own peak RSS
        wall = time.time() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            log.seek(0)
            text = log.read().decode(errors="replace").strip().splitlines()
            errors = [line for line in text if "Error" in line or "error:" in line] or text or [f"exit {proc.returncode}"]
            return {"error": errors[-1].strip()[-300:]}
    events = [json.loads(line) for line in timings.read_text().splitlines()]
    at = {e["event"]: e["t"] for e in events if e["event"] != "epoch"}
    epochs = [e["seconds"] for e in events if e["event"] == "epoch"]
    return {"wall_s": wall, "first_step_s": at["first_step"] - t0, "epoch_s": epochs, "peak_rss_mb": usage.ru_maxrss / 1024,
            # the first step without Keras's import, which takes seconds and varies by tenths between processes
            "first_step_less_import_s": at["first_step"] - t0 - (at["keras_imported"] - at["keras_import"])}


def summarize(items: list[dict], train_samples: int) -> dict:
    errors = [i["error"] for i in items if "error" in i]
    if errors:
        return {"error": errors[0]}
    steady = [train_samples / s for item in items for s in item["epoch_s"][1:]]
    return {
        "wall_s": min(i["wall_s"] for i in items),
        "first_step_s": min(i["first_step_s"] for i in items),
        "first_step_less_import_s": statistics.median(i["first_step_less_import_s"] for i in items),
        "samples_per_s": statistics.median(steady) if steady else None,
        "peak_rss_mb": max(i["peak_rss_mb"] for i in items),
    }


def ratios(s: dict, k: dict) -> dict | None:
    if "error" in s or "error" in k:
        return None
    return {
        "wall": s["wall_s"] / k["wall_s"],
        "first_step": s["first_step_s"] / k["first_step_s"],
        "first_step_gap_s": s["first_step_less_import_s"] - k["first_step_less_import_s"],
        "throughput": (s["samples_per_s"] / k["samples_per_s"]) if s["samples_per_s"] and k["samples_per_s"] else None,
        "peak_rss": s["peak_rss_mb"] / k["peak_rss_mb"],
    }


def _measure(case: dict, side: str, extra: list[str], runs: int | None = None) -> dict:
    """``case``'s runs of one command, summarized: as many as ``runs`` (default: the rounds), run as needed
    and kept (fast and mixed share their twin)."""
    done = case["done"].setdefault((side, *extra), [])
    while len(done) < (runs or case["rounds"]):
        out = case["tmp"] / f"{case['name']}-{side}-{len(case['done'])}-{len(done)}"
        if side == "specc":
            cmd = [sys.executable, "-m", "specc", "train", str(case["spec"]), "--run-dir", str(out),
                   "--epochs", str(case["epochs"]), "--device", case["device"], "-q", *extra]
        else:
            cmd = [sys.executable, str(HERE / "twins.py"), case["name"], str(case["data"]), str(out),
                   "--epochs", str(case["epochs"]), *extra]
        done.append(run_process(cmd, case["env"], case["tmp"] / "timings.jsonl"))
        shutil.rmtree(out, ignore_errors=True)
    return summarize(done, case["train_samples"])


def bench_training(names, variants, rounds: int, size: str, device: str, lstm_strategies: bool,
                   report: dict, save) -> list[dict]:
    import numpy as np  # noqa: F401 (fail early if missing)

    env = installed_env()
    results = report.setdefault("training", [])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in names:
            spec_name, _, _, sizes = CASES[name]
            n, epochs = sizes[size]
            (tmp / "data").mkdir(exist_ok=True)
            data = make_data(name, n, tmp / "data")
            spec = tmp / spec_name
            shutil.copy(HERE / "specs" / spec_name, spec)
            train_samples = int((n - round(n * 0.1)) * 0.9)
            case = {"name": name, "spec": spec, "data": data, "epochs": epochs, "device": device, "env": env,
                    "tmp": tmp, "rounds": rounds, "train_samples": train_samples, "done": {}}

            def measure(side: str, extra: list[str], runs: int | None = None, case=case) -> dict:
                return _measure(case, side, extra, runs)

            for variant in variants:
                specc_args, twin_args = VARIANTS[variant]
                row = {"case": name, "variant": variant, "samples": n, "epochs": epochs}
                args = {"specc": specc_args, "keras": twin_args}
                # rounds alternate which side goes first, so neither always meets a cold or a warm cache
                for r in range(1, rounds + 1):
                    for side in ("specc", "keras") if (r + len(results)) % 2 else ("keras", "specc"):
                        row[side] = measure(side, args[side], r)
                row["ratio"] = ratios(row["specc"], row["keras"])
                if variant != "float32":  # the preset against hand-written float32 too
                    base = measure("keras", VARIANTS["float32"][1])
                    row["keras_float32"] = base
                    row["ratio_to_float32"] = ratios(row["specc"], base)
                if lstm_strategies and name in RECURRENT and variant != "float32":
                    for strategy in ("scan", "float32"):
                        row[f"keras_lstm_{strategy}"] = measure("keras", [*twin_args, "--lstm", strategy])
                results.append(row)
                print(format_row(row), flush=True)
                save()
    return results


def _side(d: dict) -> str:
    if "error" in d:
        return f"failed: {d['error'][:120]}"
    tp = f"{d['samples_per_s']:.0f}/s" if d["samples_per_s"] else "n/a"
    return f"wall {d['wall_s']:.1f} s, first step {d['first_step_s']:.1f} s, {tp}, {d['peak_rss_mb']:.0f} MB"


def format_row(row: dict) -> str:
    lines = [f"{row['case']:<7} {row['variant']:<8} specc: {_side(row['specc'])}",
             f"{'':<16} keras: {_side(row['keras'])}"]
    for key in ("keras_float32", "keras_lstm_scan", "keras_lstm_float32"):
        if key in row:
            lines.append(f"{'':<16} {key}: {_side(row[key])}")
    for key in ("ratio", "ratio_to_float32"):
        r = row.get(key)
        if r:
            tp = f"{r['throughput']:.3f}" if r["throughput"] else "n/a"
            lines.append(f"{'':<16} {key}: wall x{r['wall']:.3f}, first step x{r['first_step']:.2f} "
                         f"({r['first_step_gap_s']:+.2f} s without Keras's import), samples/s x{tp}, "
                         f"peak RSS x{r['peak_rss']:.2f}")
    return "\n".join(lines)


def bench_checking(repeats: int = 5) -> dict:
    """Best-of-``repeats`` process times, and each against ``import tensorflow`` timed in the same run: the
    goals are ratios (one spec at most 0.07x of it), which stay comparable on a loaded machine."""
    env = installed_env()
    spec = ROOT / "specs" / "course_cnn.yaml"

    def timed(cmd, rounds=repeats):
        subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, check=False)  # warm: caches, bytecode
        best = float("inf")
        for _ in range(rounds):
            t0 = time.perf_counter()
            subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, check=False)
            best = min(best, time.perf_counter() - t0)
        return best

    cli = [sys.executable, "-m", "specc"]
    out = {
        "python_startup_s": timed([sys.executable, "-c", "pass"]),
        "import_tensorflow_s": timed([sys.executable, "-c", "import tensorflow"], max(2, repeats // 2)),
        "validate_one_s": timed([*cli, "validate", str(spec)]),
        "summary_one_s": timed([*cli, "summary", str(spec)]),
        "diff_two_s": timed([*cli, "diff", str(spec), str(ROOT / "specs" / "digits_cnn.yaml")]),
    }
    with tempfile.TemporaryDirectory() as tmp:
        specs = sorted((ROOT / "specs").glob("*.yaml"))
        for sub in ("blocks", "pretrained", "data"):  # what the specs include or load, so every copy is valid
            shutil.copytree(ROOT / "specs" / sub, Path(tmp) / sub)
        for i in range(1000):
            shutil.copy(specs[i % len(specs)], Path(tmp) / f"spec{i:04d}.yaml")
        check = subprocess.run([*cli, "validate", tmp], cwd=ROOT, env=env, capture_output=True, text=True)
        if check.returncode != 0:
            raise SystemExit(f"the 1,000 specs are not all valid:\n{check.stdout[-2000:]}")
        out["validate_1000_s"] = timed([*cli, "validate", tmp])  # worker processes, one per core
        out["validate_1000_jobs1_s"] = timed([*cli, "validate", "--jobs", "1", tmp])
    tf = out["import_tensorflow_s"]
    out["ratios"] = {k.removesuffix("_s"): v / tf for k, v in out.items() if k.endswith("_s") and k != "import_tensorflow_s"}
    return out


def format_checking(out: dict) -> str:
    lines = [f"{k:<20} {v:.3f} s   x{out['ratios'][k.removesuffix('_s')]:.3f} import tensorflow"
             for k, v in out.items() if k.endswith("_s") and k != "import_tensorflow_s"]
    return "\n".join([f"{'import_tensorflow_s':<20} {out['import_tensorflow_s']:.3f} s", *lines])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="+", choices=list(CASES))
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=["float32"],
                        help="float32: both sides as written; mixed: both in mixed_bfloat16; fast: specc --fast "
                        "against the hand-written twin in mixed_bfloat16 (and in float32).")
    parser.add_argument("--device", choices=["cpu", "gpu", "auto"], default="auto",
                        help="specc's --device; gpu also picks the GPU cases and sizes.")
    parser.add_argument("--lstm-strategies", action="store_true",
                        help="Also time the twin's recurrent case in mixed precision with its LSTMs in float32 and "
                        "with Keras's generic (non-cuDNN) loop.")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", choices=["training", "checking"])
    parser.add_argument("--json", type=Path, help="Also write the results to this file (after every case).")
    parser.add_argument("--size", choices=["cpu", "gpu", "quick"],
                        help="Data sizes (default: gpu with --device gpu, quick with --quick, else cpu).")
    args = parser.parse_args()
    from importlib.metadata import version

    # Keras is not imported here: on a GPU, this process would take the device memory its children need.
    gpu = args.device == "gpu"
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
        "python": platform.python_version(),
        "keras": version("keras"),
        "backend": backend,
        backend: version("jax" if backend == "jax" else backend),
        "device": args.device,
    }
    if gpu:
        found = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                               text=True, check=False)
        report["gpu"] = found.stdout.strip()

    def save():
        if args.json:
            args.json.write_text(json.dumps(report, indent=2) + "\n")

    print(f"{report['date']}  {report['machine']}  Python {report['python']}  Keras {report['keras']} "
          f"({report['backend']}) {report.get('gpu', '')}", flush=True)
    if args.only != "checking":
        size = args.size or ("quick" if args.quick else "gpu" if gpu else "cpu")
        bench_training(args.cases or DEFAULT_CASES["gpu" if gpu else "cpu"], args.variants,
                       1 if args.quick else args.rounds, size, args.device, args.lstm_strategies, report, save)
    if args.only != "training":
        report["checking"] = bench_checking(2 if args.quick else 5)
        print(format_checking(report["checking"]), flush=True)
    save()


if __name__ == "__main__":
    main()
