#!/usr/bin/env bash
# Prompt and decode tokens/s of `strata run` on each shared model file (2 threads by default).
# Usage: bench/run_models.sh [THREADS] [N_PREDICT]; reads $STRATA_TESTDATA (default ../shared/testdata).
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${1:-2}
N=${2:-128}
DATA=${STRATA_TESTDATA:-../shared/testdata}
STRATA=${STRATA:-build/src/cli/strata}
PROMPT="Hackers are people who enjoy exploring the details of programmable systems and how to stretch their \
capabilities, as opposed to most users, who prefer to learn only the minimum necessary. The jargon file says \
that a real hacker is someone who loves to program, and who enjoys the intellectual challenge of overcoming \
limitations. A computer is like an air conditioner: it stops working when you open windows."
printf '%-22s %14s %14s\n' model "prompt tok/s" "decode tok/s"
for f in "$DATA"/models/tiny-llama-{f32,f16,q8_0,q4_0}.gguf; do
  best_pp=0; best_tg=0
  for rep in 1 2 3; do
    line=$("$STRATA" run -m "$f" -p "$PROMPT" -n "$N" -t "$THREADS" --ignore-eos 2>&1 >/dev/null | grep 'tok/s' | tail -1)
    pp=$(sed -E 's/.*prompt: [0-9]+ tokens in [0-9.]+ s \(([0-9.]+) tok\/s\).*/\1/' <<<"$line")
    tg=$(sed -E 's/.*decode: [0-9]+ tokens in [0-9.]+ s \(([0-9.]+) tok\/s\).*/\1/' <<<"$line")
    best_pp=$(python3 -c "print(max($best_pp, $pp))"); best_tg=$(python3 -c "print(max($best_tg, $tg))")
  done
  printf '%-22s %14s %14s\n' "$(basename "$f")" "$best_pp" "$best_tg"
done
