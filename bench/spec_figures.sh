#!/usr/bin/env bash
# Speculative decoding figures, written into bench/RESULTS.md as its "spec" section (the rest of the file is
# left alone; bench/results.sh keeps this section when it rewrites the file).
#  - A memory-bound target made by `strata gen-model --inflate` from the trained tiny model (feed-forward width
#    $FFN, new units normal(0, S) for each S of $NOISE), drafted for by the tiny model itself: decode tok/s
#    without and with speculation, acceptance and tokens per verification step.
#  - Prompt lookup (--spec ngram) on a code-editing prompt, on the zero-noise target.
# Each row is one `strata bench -m TARGET ... --json` run; both speeds come from that same run.
#
# Usage: bench/spec_figures.sh
#   STRATA=build/src/cli/strata  MODELS=/tmp/strata-spec  THREADS=2  GEN=128  FFN=131072  NOISE="0 0.02 0.03"
#   K=5  OUT=bench/RESULTS.md  STRATA_TESTDATA=../shared/testdata
set -euo pipefail
cd "$(dirname "$0")/.."
STRATA=${STRATA:-build/src/cli/strata}
MODELS=${MODELS:-/tmp/strata-spec}
THREADS=${THREADS:-2}
GEN=${GEN:-128}
FFN=${FFN:-131072}
NOISE=${NOISE:-0 0.02 0.03}
K=${K:-5}
OUT=${OUT:-bench/RESULTS.md}
DATA=${STRATA_TESTDATA:-../shared/testdata}
TINY=$DATA/models/tiny-llama-f32.gguf
[[ -x "$STRATA" ]] || { echo "spec_figures.sh: no strata binary at $STRATA" >&2; exit 1; }
[[ -f "$TINY" ]] || { echo "spec_figures.sh: $TINY not found (set STRATA_TESTDATA)" >&2; exit 1; }
mkdir -p "$MODELS"
raw="$MODELS/spec-$(date +%Y%m%d-%H%M%S).jsonl"
: >"$raw"

story='Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends.'
code=$'def area(w, h):\n    return w * h\n\ndef perimeter(w, h):\n    return 2 * (w + h)\n\n# The same functions with type hints:\ndef area(w: float, h: float) -> float:\n    return w * h\n\ndef perimeter('

target() {  # the inflated target of noise $1, written once
  local f="$MODELS/inflated-ffn$FFN-noise$1.gguf"
  [[ -f "$f" ]] || "$STRATA" gen-model --inflate "$TINY" --ffn "$FFN" --noise "$1" -o "$f" >&2
  echo "$f"
}

run() {  # label, then strata bench arguments
  local label=$1
  shift
  echo "spec_figures.sh: $label" >&2
  "$STRATA" bench "$@" -p 32 -n "$GEN" -t "$THREADS" --spec-tokens "$K" --json | python3 -c '
import json, sys
j = json.loads(sys.stdin.readline()); j["label"] = sys.argv[1]; print(json.dumps(j))' "$label" >>"$raw"
}

for s in $NOISE; do
  run "draft model, noise $s" -m "$(target "$s")" --draft-model "$TINY" --prompt "$story"
done
run "prompt lookup, code edit" -m "$(target 0)" --spec ngram --spec-ngram-min 1 --prompt "$code"

(python3 - "$raw" "$FFN" "$THREADS" "$GEN" "$K" <<'PY'
import json, os, sys
raw, ffn, threads, gen, k = sys.argv[1:]
runs = [json.loads(l) for l in open(raw) if l.strip()]
lines = ["## Speculative decoding", "",
         f"Target: `strata gen-model --inflate tiny-llama-f32.gguf --ffn {ffn} --noise S` (F32, "
         f"{runs[0]['bytes_per_token'] / 1e6:.0f} MB read per decoded token); draft: the trained tiny model itself "
         f"(tiny-llama-f32.gguf). {threads} threads, {gen} tokens decoded greedily, up to {k} drafts a step (adaptive); "
         "speeds without and with speculation come from the same `strata bench` run, through the same engine.", "",
         "| run | decode tok/s without | with | speedup | acceptance | tokens per step | roofline tok/s (one token a pass) |",
         "|---|---:|---:|---:|---:|---:|---:|"]
for r in runs:
    lines.append(f"| {r['label']} | {r['engine_tg_tps']:.1f} | {r['spec_tg_tps']:.1f} | {r['spec_speedup']:.2f}x | "
                 f"{100 * r['spec_acceptance']:.1f}% | {r['spec_mean_accepted_length']:.2f} | {r['roofline_tps']:.1f} |")
lines += ["", f"Regenerate: `bench/spec_figures.sh` (raw JSON lines in {os.path.dirname(raw)})."]
print("\n".join(lines))
PY
) | bench/write_section.py "$OUT" spec
echo "spec_figures.sh: wrote the spec section of $OUT (raw: $raw)" >&2
