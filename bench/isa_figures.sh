#!/usr/bin/env bash
# The integer path on each instruction set this CPU can run, forced with STRATA_ISA, written into
# bench/RESULTS.md as its "isa" section (the rest of the file is left alone): prompt and decode tok/s of 1B-shape
# files, next to the F32-activation path that CPUs without the integer kernels used before (STRATA_FLOAT_ACTIVATIONS).
#
# Usage: bench/isa_figures.sh
#   STRATA=build/src/cli/strata  MODELS=/tmp/strata-bench  DTYPES="q4_0 q8_0"  THREADS=2  PROMPT=128  GEN=32
#   ISAS="avx512 avxvnni avx2"  OUT=bench/RESULTS.md  VOCAB=$STRATA_TESTDATA/tokenizer/llama2-vocab.gguf
#   LLAMA_CPP=/tmp/strata-llama-cpp (bench/llama_cpp/setup.sh; measured once per file, next to the first ISA)
set -euo pipefail
cd "$(dirname "$0")/.."
STRATA=${STRATA:-build/src/cli/strata}
MODELS=${MODELS:-/tmp/strata-bench}
DTYPES=${DTYPES:-q4_0 q8_0}
THREADS=${THREADS:-2}
PROMPT=${PROMPT:-128}
GEN=${GEN:-32}
ISAS=${ISAS:-avx512 avxvnni avx2}
OUT=${OUT:-bench/RESULTS.md}
VOCAB=${VOCAB:-${STRATA_TESTDATA:-../shared/testdata}/tokenizer/llama2-vocab.gguf}
LLAMA_CPP=${LLAMA_CPP:-/tmp/strata-llama-cpp}
llama=()
[[ -f "$LLAMA_CPP/bench.mjs" ]] && llama=(--llama-cpp "$LLAMA_CPP" --llama-cpp-threads "$THREADS")
[[ -x "$STRATA" ]] || { echo "isa_figures.sh: no strata binary at $STRATA" >&2; exit 1; }
mkdir -p "$MODELS"
raw="$MODELS/isa-$(date +%Y%m%d-%H%M%S).jsonl"
: >"$raw"

for dtype in $DTYPES; do
  model="$MODELS/llama-1b-$dtype.gguf"
  [[ -f "$model" ]] || "$STRATA" gen-model --shape llama-1b --dtype "$dtype" -o "$model" --vocab "$VOCAB" >&2
  first=1
  run() {  # label, then environment assignments
    local label=$1
    shift
    echo "isa_figures.sh: $dtype $label" >&2
    local with=()
    ((first)) && with=("${llama[@]}")
    first=0
    env "$@" "$STRATA" bench -m "$model" -p "$PROMPT" -n "$GEN" -t "$THREADS" --json "${with[@]}" | python3 -c '
import json, sys
j = json.loads(sys.stdin.readline()); j["label"] = sys.argv[1]; j["dtype"] = sys.argv[2]; print(json.dumps(j))' "$label" "$dtype" >>"$raw"
  }
  for isa in $ISAS; do run "STRATA_ISA=$isa" STRATA_ISA="$isa"; done
  run "STRATA_ISA=avx2 STRATA_FLOAT_ACTIVATIONS=1 (before)" STRATA_ISA=avx2 STRATA_FLOAT_ACTIVATIONS=1
done

(python3 - "$raw" "$THREADS" "$PROMPT" "$GEN" <<'PY'
import json, os, sys
raw, threads, prompt, gen = sys.argv[1:]
runs = [json.loads(l) for l in open(raw) if l.strip()]
lines = ["## The integer path on each instruction set", "",
         f"llama-1b shape (`strata gen-model`), {threads} threads, {prompt} prompt tokens, {gen} decoded; the path "
         "forced with STRATA_ISA on one machine (a CPU that has the instruction set runs it the same). "
         "`isa`: the integer path; `none` is the F32-activation path CPUs without the integer kernels took before.", "",
         "| file | forced | integer path | F32 path | prompt tok/s | decode tok/s | roofline decode tok/s | % of roofline |",
         "|---|---|---|---|---:|---:|---:|---:|"]
for r in runs:
    lines.append(f"| {r['dtype']} | {r['label']} | {r['isa']} | {r['matmul_isa']} | {r['pp_tps']:.1f} | {r['tg_tps']:.2f} | "
                 f"{r['roofline_tps']:.1f} | {100 * r['tg_tps'] / r['roofline_tps']:.0f}% |")
    if "llama_tg_tps" in r:
        lines.append(f"| {r['dtype']} | llama.cpp {r['llama_version']} (its own best path) | | | {r['llama_pp_tps']:.1f} | "
                     f"{r['llama_tg_tps']:.2f} | | {100 * r['llama_tg_tps'] / r['roofline_tps']:.0f}% |")
lines += ["", f"Regenerate: `bench/isa_figures.sh` (raw JSON lines in {os.path.dirname(raw)})."]
print("\n".join(lines))
PY
) | bench/write_section.py "$OUT" isa
echo "isa_figures.sh: wrote the isa section of $OUT (raw: $raw)" >&2
