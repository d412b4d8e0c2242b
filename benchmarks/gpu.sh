#!/usr/bin/env bash
# The GPU run, in one go: real specs trained on the GPU (float32 and --fast), then specc against the
# hand-written twins (benchmarks/run.py) in float32, mixed bfloat16 and the fast preset.
#
#     benchmarks/gpu.sh RESULTS_DIR [WHEELS_DIR] [STAGE...]
#
# STAGE: real (two real specs, about 1 minute on an H200), dense (CNN and MLP, about 4 minutes), deep
# (BiLSTM and VGG16, about 7 minutes); all three when none is named. With a GPU for a few minutes at a
# time, run one or two stages per call: each writes its own results, so a timed-out call keeps what it did.
#
# Runs Keras on JAX (KERAS_BACKEND=jax): the same code path as TensorFlow's through Keras, and what a
# machine with JAX but no TensorFlow has. WHEELS_DIR: wheels to install first into a private folder (keras,
# pydantic, ... for a machine without a package index; "" for none). Results: gpu.txt, real.txt,
# bench-dense.json and bench-deep.json in RESULTS_DIR.
# SPECC_BENCH_DEVICE=cpu SPECC_BENCH_SIZE=quick: a dry run of the same script on a CPU.
set -u
out=${1:?results folder}
device=${SPECC_BENCH_DEVICE:-gpu}
size=${SPECC_BENCH_SIZE:-gpu}
wheels=${2:-}
stages=${*:3}
stages=${stages:-real dense deep}
mkdir -p "$out"
if [ -n "$wheels" ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/specc-site \
    "$wheels"/*.whl || exit 1
  export PYTHONPATH=/tmp/specc-site${PYTHONPATH:+:$PYTHONPATH}
fi
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1 PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || uname -m; } | tee "$out/gpu.txt"
python3 -c "import sys, jax, keras; print(sys.version.split()[0], 'jax', jax.__version__, 'keras', keras.__version__, jax.devices())" \
  | tee -a "$out/gpu.txt"

has() { case " $stages " in *" $1 "*) return 0;; esac; return 1; }

# 1. Real data: an LSTM classifier in float32 and with --fast (its LSTM runs on cuDNN in float32 inside the
#    mixed model), and the digits CNN; test metrics to compare.
work=$(mktemp -d)
has real && for spec in lstm digits_cnn; do
  for mode in float32 fast; do
    flag=$([ $mode = fast ] && echo --fast)
    python3 -m specc train specs/$spec.yaml --device $device $flag --run-dir "$work/$spec-$mode" --json -q \
      > "$work/$spec-$mode.json" 2> "$work/$spec-$mode.err" \
      && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); r=json.load(open(d['run_dir']+'/run.json'));
print(sys.argv[2], sys.argv[3], r['device'], r['precision'], {k: round(v, 4) for k, v in d['metrics']['test'].items()})" \
      "$work/$spec-$mode.json" $spec $mode || { echo "$spec $mode failed:"; tail -5 "$work/$spec-$mode.err"; }
  done
done | tee "$out/real.txt"

# 2. specc against the hand-written twins.
has dense && python3 benchmarks/run.py --device $device --size $size --rounds 1 --only training --cases cnn mlp --variants float32 mixed fast \
  --json "$out/bench-dense.json"
has deep && python3 benchmarks/run.py --device $device --size $size --rounds 1 --only training --cases bilstm vgg16 --variants float32 fast \
  --lstm-strategies --json "$out/bench-deep.json"
