#!/usr/bin/env bash
# The compiler's figures on each shared model: compile time, peak activation bytes planned vs naive, decode
# and prompt tokens/s with and without fusion (best of 3), and the cost model's predicted vs measured time.
# Usage: bench/compiler_figures.sh [THREADS]; reads $STRATA_TESTDATA (default ../shared/testdata).
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${1:-2}
DATA=${STRATA_TESTDATA:-../shared/testdata}
STRATA=${STRATA:-build/src/cli/strata}
best() {  # best of 3 runs of `strata bench --json`: prints "pp_tps tg_tps predicted_ms measured_ms"
  for rep in 1 2 3; do "$STRATA" bench -m "$1" -p 128 -n 96 -t "$THREADS" --json --passes "$2" 2>/dev/null; done |
    python3 -c 'import json,sys; r=[json.loads(l) for l in sys.stdin]; b=max(r,key=lambda x:x["tg_tps"]); \
print("%.0f %.0f %.3f %.3f" % (max(x["pp_tps"] for x in r), b["tg_tps"], b["predicted_ms_per_token"], b["measured_ms_per_token"]))'
}
printf '%-6s %10s %-44s %-44s %s\n' model compile "memory at T=256 (passes none)" "memory at T=256 (default)" ""
for dt in f32 f16 q8_0 q4_0; do
  f="$DATA/models/tiny-llama-$dt.gguf"
  ms=$("$STRATA" plan -m "$f" 2>&1 >/dev/null | sed -nE 's/.*compiled in ([0-9.]+) ms.*/\1/p')
  none=$("$STRATA" plan -m "$f" --passes none 2>/dev/null | sed -nE 's/memory: peak activations ([0-9.]+ MiB planned vs [0-9.]+ MiB naive).*/\1/p')
  fused=$("$STRATA" plan -m "$f" 2>/dev/null | sed -nE 's/memory: peak activations ([0-9.]+ MiB planned vs [0-9.]+ MiB naive).*/\1/p')
  printf '%-6s %7s ms %-44s %-44s\n' "$dt" "$ms" "$none" "$fused"
done
echo
printf '%-6s %-8s %10s %10s %14s %14s\n' model passes "pp tok/s" "tg tok/s" "predicted ms" "measured ms"
for dt in f32 f16 q8_0 q4_0; do
  for p in none default; do
    read -r pp tg pred meas <<<"$(best "$DATA/models/tiny-llama-$dt.gguf" $p)"
    printf '%-6s %-8s %10s %10s %14s %14s\n' "$dt" "$p" "$pp" "$tg" "$pred" "$meas"
  done
done
