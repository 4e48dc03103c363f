#!/usr/bin/env bash
# Prefill and decode tok/s of one model at tp 1 (one process), tp 2 and pp 2 (two processes under mpirun),
# with each rank's resident memory, all in one run so the ratios compare like with like.
# Usage: bench/mpi_figures.sh MODEL.gguf [PROMPT_TOKENS] [DECODE_TOKENS]   (STRATA=path to the binary)
set -euo pipefail
model=${1:?usage: $0 MODEL.gguf [PROMPT] [DECODE]}
prompt=${2:-128}
decode=${3:-32}
strata=${STRATA:-build/src/cli/strata}
cores=$(nproc)
half=$((cores / 2 > 0 ? cores / 2 : 1))
mpi="mpirun --oversubscribe -np 2"
[ "$(id -u)" -eq 0 ] && mpi+=" --allow-run-as-root"

row() {  # label, launcher prefix (or ""), bench options; prints tok/s and the ranks' resident memory
  local label=$1 launcher=$2 options=$3
  local log
  # shellcheck disable=SC2086  # the prefix and the options are word lists
  log=$($launcher "$strata" bench -m "$model" -p "$prompt" -n "$decode" --json $options 2>&1)
  local json
  json=$(grep '^{' <<<"$log" | tail -1)
  local pp tg
  pp=$(sed -E 's/.*"pp_tps":([0-9.]+).*/\1/' <<<"$json")
  tg=$(sed -E 's/.*"tg_tps":([0-9.]+).*/\1/' <<<"$json")
  local mem
  mem=$(grep -oE 'rank [0-9]+: weights ready, resident memory [0-9.]+' <<<"$log" | sed -E 's/rank ([0-9]+).* ([0-9.]+)$/r\1 \2 MiB/' | paste -sd ' ' - || true)
  printf '%-28s %10.1f %10.2f   %s\n' "$label" "$pp" "$tg" "${mem:-one process}"
}

echo "model $model, prompt $prompt, decode $decode, $cores cores"
printf '%-28s %10s %10s   %s\n' "configuration" "prefill/s" "decode/s" "resident memory per rank after load"
row "tp 1, 1 process x $cores thr" "" "--tp 1 -t $cores"
row "tp 2, 2 processes x $half thr" "$mpi" "--tp 2 -t $half"
row "pp 2, 2 processes x $half thr" "$mpi" "--pp 2 -t $half"
