#!/usr/bin/env bash
# Router figures on this host: throughput of short non-streaming completions through `strata router` over 1, 2
# and 3 `strata serve` backends against one backend alone, and the backends' prefix cache hit rate under
# round-robin and prefix-affinity. Every server gets -t THREADS compute threads; on a host with fewer cores than
# backends x THREADS the backends share cores and throughput cannot scale with their number.
# usage: bench/router_figures.sh [BUILD_DIR] [MODEL]   (env: REQUESTS=64 CONCURRENCY=8 MAX_TOKENS=16 THREADS=1)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
model=${2:-${STRATA_TESTDATA:-../shared/testdata}/models/tiny-llama-q8_0.gguf}
strata=$build/src/cli/strata
REQUESTS=${REQUESTS:-64} CONCURRENCY=${CONCURRENCY:-8} MAX_TOKENS=${MAX_TOKENS:-16} THREADS=${THREADS:-1}
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
base=$((10000 + RANDOM % 20000))  # below the ephemeral ports (32768 and up) that clients get

wait_health() { for _ in $(seq 1 300); do curl -sf "$1/health" >/dev/null && return 0; sleep 0.1; done; echo "no answer from $1" >&2; exit 1; }
for i in 0 1 2; do
  "$strata" --log-level warn serve -m "$model" --port $((base + i)) -t "$THREADS" --served-model-name tiny &
  pids+=($!)
done
for i in 0 1 2; do wait_health "http://127.0.0.1:$((base + i))"; done
load() { node bench/router_load.mjs --url "$1" --requests "$REQUESTS" --concurrency "$CONCURRENCY" --max-tokens "$MAX_TOKENS" "${@:2}"; }
router() {  # router PORT POLICY N: a router over the first N backends
  local backends=()
  for i in $(seq 0 $(($3 - 1))); do backends+=(--backend "http://127.0.0.1:$((base + i))"); done
  "$strata" --log-level warn router --port "$1" --policy "$2" "${backends[@]}" &
  pids+=($!)
  wait_health "http://127.0.0.1:$1"
}
load "http://127.0.0.1:$base" --tag warmup >/dev/null
echo "direct, 1 backend: $(load "http://127.0.0.1:$base")"
for n in 1 2 3; do
  router $((base + 10 + n)) least-outstanding "$n"
  echo "router, $n backends (least-outstanding): $(load "http://127.0.0.1:$((base + 10 + n))")"
done

hits() {  # the summed prefix cache hits and queries of the three backends
  local h=0 q=0
  for i in 0 1 2; do
    m=$(curl -sf "http://127.0.0.1:$((base + i))/metrics")
    h=$(echo "$m" | awk -v h="$h" '/^vllm:prefix_cache_hits_total/ {h += $2} END {print h}')
    q=$(echo "$m" | awk -v q="$q" '/^vllm:prefix_cache_queries_total/ {q += $2} END {print q}')
  done
  echo "$h $q"
}
for policy in round-robin prefix-affinity; do
  port=$((base + 20 + ${#pids[@]}))
  router "$port" "$policy" 3
  read -r h0 q0 < <(hits)
  out=$(load "http://127.0.0.1:$port" --prefixes 4 --prefix-chars 300 --tag "$policy" --max-tokens 4)
  read -r h1 q1 < <(hits)
  echo "prefix cache hit rate, 3 backends, $policy: $(awk -v a="$h0" -v b="$h1" -v c="$q0" -v d="$q1" 'BEGIN {printf "%.3f", (b - a) / (d - c)}') ($out)"
done
