#!/usr/bin/env bash
# `strata chat`: time to first token of the second turn with prefix reuse (the default) and without it
# (--no-prefix-reuse re-runs the whole conversation), alternated in the same run so machine drift hits both.
# The first message is long (LONG_WORDS words), the answer ANSWER tokens, the second message short.
# usage: STRATA=build/src/cli/strata MODEL=... bench/chat_figures.sh   (REPEATS=3 THREADS=2 LONG_WORDS=600 ANSWER=64)
set -euo pipefail
STRATA=${STRATA:-build/src/cli/strata}
MODEL=${MODEL:?set MODEL to a GGUF file, e.g. from strata gen-model}
REPEATS=${REPEATS:-3} THREADS=${THREADS:-2} LONG_WORDS=${LONG_WORDS:-600} ANSWER=${ANSWER:-64}
long=$(for i in $(seq 1 "$LONG_WORDS"); do printf 'word%d ' $((i % 97)); done)
input=$(printf 'Summarise this: %s\n/stats\nAnd in one line?\n/stats\n' "$long")
printf 'mode\trun\tturn2_prompt\treused\tprocessed\tprefill_s\tfirst_token_s\n'
for run in $(seq 1 "$REPEATS"); do
  for mode in reuse full; do
    flags=(); [ "$mode" = full ] && flags=(--no-prefix-reuse)
    out=$(printf '%s' "$input" | "$STRATA" chat -m "$MODEL" -t "$THREADS" --temp 0 --ignore-eos -n "$ANSWER" \
          "${flags[@]}" 2>/dev/null)
    prompt=$(grep '^prompt:' <<<"$out" | tail -1)
    answer=$(grep '^last answer:' <<<"$out" | tail -1)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$run" \
      "$(sed -E 's/prompt: ([0-9]+) tokens.*/\1/' <<<"$prompt")" \
      "$(sed -E 's/.*, ([0-9]+) reused.*/\1/' <<<"$prompt")" \
      "$(sed -E 's/.*reused from the cache, ([0-9]+) processed.*/\1/' <<<"$prompt")" \
      "$(sed -E 's/.* in ([0-9.]+) s$/\1/' <<<"$prompt")" \
      "$(sed -E 's/.*first token after ([0-9.]+) s.*/\1/' <<<"$answer")"
  done
done
