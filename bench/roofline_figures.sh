#!/usr/bin/env bash
# Decode against the memory roofline, written into bench/RESULTS.md as three sections (the rest of the file is
# left alone), each run next to llama.cpp on the same file (bench/llama_cpp/setup.sh installs it):
#   kquant   - 1B-shape files of each weight type: decode's share of the roofline, prefill next to Q8_0's
#   context  - decode at 512, 4096 and 16384 tokens of context (1B shape, Llama 3.2's rope base, 16k context)
#   cost     - the cost model's predicted prefill and decode time against the measured, 1B and 3B shapes
#
# Usage: bench/roofline_figures.sh
#   STRATA=build/src/cli/strata  MODELS=/tmp/strata-bench  LLAMA_CPP=/tmp/strata-llama-cpp  THREADS=2
#   DTYPES="q4_0 q8_0 q4_k_m q6_k"  CONTEXTS="512 4096 16384"  OUT=bench/RESULTS.md  REPS=3
#   VOCAB=$STRATA_TESTDATA/tokenizer/llama2-vocab.gguf
#   KINDS="kquant context cost"  the runs to make; RAW=FILE.jsonl adds them to an earlier run's raw lines (a
#   rerun of a file replaces its earlier line), so one kind can be measured again and every section rewritten
set -euo pipefail
cd "$(dirname "$0")/.."
STRATA=${STRATA:-build/src/cli/strata}
MODELS=${MODELS:-/tmp/strata-bench}
LLAMA_CPP=${LLAMA_CPP:-/tmp/strata-llama-cpp}
THREADS=${THREADS:-2}
REPS=${REPS:-3}  # strata bench -r: the fastest of this many prefills and decodes (the long-context runs take one)
DTYPES=${DTYPES:-q4_0 q8_0 q4_k_m q6_k}
CONTEXTS=${CONTEXTS:-512 4096 16384}
OUT=${OUT:-bench/RESULTS.md}
VOCAB=${VOCAB:-${STRATA_TESTDATA:-../shared/testdata}/tokenizer/llama2-vocab.gguf}
[[ -x "$STRATA" ]] || { echo "roofline_figures.sh: no strata binary at $STRATA" >&2; exit 1; }
llama=()
if [[ -f "$LLAMA_CPP/bench.mjs" ]]; then
  llama=(--llama-cpp "$LLAMA_CPP" --llama-cpp-threads "$THREADS")
else
  echo "roofline_figures.sh: no llama.cpp in $LLAMA_CPP (bench/llama_cpp/setup.sh): Strata alone" >&2
fi
mkdir -p "$MODELS"
KINDS=${KINDS:-kquant context cost}
raw=${RAW:-$MODELS/roofline-$(date +%Y%m%d-%H%M%S).jsonl}
[[ -n "${RAW:-}" ]] || : >"$raw"
wants() { [[ " $KINDS " == *" $1 "* ]]; }

model() {  # shape dtype [ctx]: the file, generated once
  local file="$MODELS/$1-$2${3:+-ctx$3}.gguf"
  [[ -f "$file" ]] || "$STRATA" gen-model --shape "$1" --dtype "$2" ${3:+--ctx "$3"} -o "$file" --vocab "$VOCAB" >&2
  echo "$file"
}
run() {  # kind shape dtype file prompt gen [repetitions]
  echo "roofline_figures.sh: $1 $2 $3 -p $5 -n $6 -r ${7:-$REPS}" >&2
  sleep 5  # the previous run's processes (llama.cpp's node) gone and their memory freed: probes see a quiet machine
  "$STRATA" bench -m "$4" -p "$5" -n "$6" -r "${7:-$REPS}" -t "$THREADS" --json "${llama[@]}" | python3 -c '
import json, sys
j = json.loads(sys.stdin.readline()); j["kind"], j["shape"], j["dtype"] = sys.argv[1:4]; print(json.dumps(j))' "$1" "$2" "$3" >>"$raw"
}

if wants kquant; then
  for dtype in $DTYPES; do run kquant llama-1b "$dtype" "$(model llama-1b "$dtype")" 512 64; done
fi
if wants context; then
  long=$(model llama-1b q4_0 16640)
  for ctx in $CONTEXTS; do run context llama-1b q4_0 "$long" "$ctx" 32 1; done  # one run: 16384 is minutes
fi
if wants cost; then run cost llama-3b q4_0 "$(model llama-3b q4_0)" 512 32; fi

section() {  # name: the python below prints that section from the raw runs
  python3 - "$raw" "$1" "$THREADS" <<'PY' | bench/write_section.py "$OUT" "$1"
import json, os, sys
raw, name, threads = sys.argv[1:]
last = {}
for l in open(raw):  # a rerun (same kind, shape, file type and prompt) replaces the earlier line
    if l.strip():
        r = json.loads(l)
        last[(r["kind"], r["shape"], r["dtype"], r["prompt"])] = r
runs = list(last.values())
def llama(r, key):
    return f"{r[key]:.1f}" if key in r else "-"
def ratio(r, key):
    return f"{r[key]:.2f}x" if key in r else "-"
lines = []
if name == "kquant":
    ks = [r for r in runs if r["kind"] == "kquant"]
    share = {r["dtype"]: r["tg_tps"] / r["roofline_tps"] for r in ks}
    q8 = next((r["pp_tps"] for r in ks if r["dtype"] == "q8_0"), None)
    lines += ["## K-quants at the roofline", "",
              f"llama-1b shape (`strata gen-model`; q4_k_m as llama-quantize's preset: Q4_K with Q6_K for half of "
              f"ffn_down and attn_v and for the embedding), {threads} threads, 512 prompt tokens, 64 decoded. Roofline: "
              "the bytes a decoded token reads over the read bandwidth measured in the same run (`strata bench`).", "",
              "| file | MB read / token | decode tok/s | % of roofline | share / Q4_0's | prompt tok/s | prompt / Q8_0's "
              "| llama.cpp decode | llama.cpp prompt | decode vs llama.cpp | prompt vs llama.cpp | RSS after load / file |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in ks:
        rel = share[r["dtype"]] / share["q4_0"] if "q4_0" in share else 0
        lines.append(f"| {r['dtype']} | {r['bytes_per_token'] / 1e6:.0f} | {r['tg_tps']:.2f} | "
                     f"{100 * share[r['dtype']]:.0f}% | {rel:.2f} | {r['pp_tps']:.1f} | "
                     f"{r['pp_tps'] / q8 if q8 else 0:.2f} | {llama(r, 'llama_tg_tps')} | {llama(r, 'llama_pp_tps')} | "
                     f"{ratio(r, 'tg_ratio')} | {ratio(r, 'pp_ratio')} | {r['rss_after_load'] / r['file_bytes']:.2f}x |")
    rates = ks[0]["kernel_rates"] if ks else {}
    lines += ["", "Kernel rates the same runs measured (GEMV: the plan's own matmul shapes streamed as a decode step "
              "runs them): " + ", ".join(f"{k} {v:.1f} GB/s" for r in ks for k, v in r["kernel_rates"]["gemv_gbs"].items()) + "."]
elif name == "context":
    cs = [r for r in runs if r["kind"] == "context"]
    lines += ["## Decode at long context", "",
              f"llama-1b shape with Llama 3.2's rope base (500000) and a 16640-token context, Q4_0 weights, F16 KV cache "
              f"(llama.cpp's default too), {threads} threads; the prompt fills the context, then 32 tokens are decoded. "
              "KV MB / token: the cache a decoded token's attention reads.", "",
              "| context | decode tok/s | ms / token | KV MB / token | weights + KV MB / token | % of roofline "
              "| attention read GB/s (probe) | llama.cpp decode | vs llama.cpp | prompt tok/s | llama.cpp prompt |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in cs:
        kv = r["kv_bytes_per_token"] * (r["prompt"] + r["generated"] / 2) / 1e6
        lines.append(f"| {r['prompt']} | {r['tg_tps']:.2f} | {1e3 / r['tg_tps']:.1f} | {kv:.0f} | "
                     f"{r['bytes_per_token'] / 1e6:.0f} | {100 * r['tg_tps'] / r['roofline_tps']:.0f}% | "
                     f"{r['kernel_rates']['attention_gbs']:.1f} of {r['bandwidth_gbs']:.1f} | {llama(r, 'llama_tg_tps')} | "
                     f"{ratio(r, 'tg_ratio')} | {r['pp_tps']:.1f} | {llama(r, 'llama_pp_tps')} |")
elif name == "cost":
    lines += ["## The cost model against measured time", "",
              "`strata bench` predicts prefill (in its 512-token chunks) and decode (at the run's mean context) from "
              "the plan's bytes and FLOPs and the rates of the kernels it runs, measured in the same process "
              "(runtime/cost_probe.cpp; `strata plan --cost` prints the same model per op). Ratio: measured / predicted.", "",
              "| shape | file | run | prompt (context) | measured prefill ms | predicted | ratio | measured decode ms/token | predicted | ratio |",
              "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        lines.append(f"| {r['shape']} | {r['dtype']} | {r['kind']} | {r['prompt']} | {r['measured_prefill_ms']:.0f} | "
                     f"{r['predicted_prefill_ms']:.0f} | {r['measured_prefill_ms'] / r['predicted_prefill_ms']:.2f} | "
                     f"{r['measured_ms_per_token']:.2f} | {r['predicted_ms_per_token']:.2f} | "
                     f"{r['measured_ms_per_token'] / r['predicted_ms_per_token']:.2f} |")
kind_runs = runs if name == "cost" else [r for r in runs if r["kind"] == name]
cpus = sorted({r.get("cpu") or "an unnamed CPU" for r in kind_runs})
lines += ["", f"Machine: {', '.join(cpus)}."]
version = next((r["llama_version"] for r in runs if "llama_version" in r), None)
if version:
    lines += ["", f"llama.cpp: {version} (the prebuilt CPU binaries of node-llama-cpp), {threads} threads, same file, "
              "prompt and decode lengths."]
lines += ["", f"Regenerate: `bench/roofline_figures.sh` (raw JSON lines in {os.path.dirname(raw)})."]
print("\n".join(lines))
PY
}
# A section whose runs this raw file lacks is left as it was (measured on another day, perhaps another machine).
written=()
for s in kquant context cost; do
  if [[ $s == cost ]] && [[ -s "$raw" ]] || grep -q "\"kind\": \"$s\"" "$raw"; then section "$s"; written+=("$s"); fi
done
echo "roofline_figures.sh: wrote the ${written[*]} sections of $OUT (raw: $raw)" >&2
