#!/usr/bin/env bash
# Starts two `strata serve` backends and `strata router` in front of them, all with the same extra flags (e.g.
# --api-key KEY: the router checks it and passes the client's header on), waits until the router is healthy,
# runs COMMAND with STRATA_URL set to the router, then stops everything. Exit 77 (CTest's skip) when the model
# or a tool is missing. The router-side twin of tests/server/run_with_server.sh.
# usage: run_with_router.sh STRATA_BINARY DEFAULT_TESTDATA MODEL_RELATIVE [flags...] -- COMMAND...
set -uo pipefail
strata=$1 model="${STRATA_TESTDATA:-$2}/$3"
shift 3
flags=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do flags+=("$1"); shift; done
shift
if [ ! -f "$model" ]; then echo "SKIP: $model not found (set STRATA_TESTDATA)"; exit 77; fi
if [ -n "${STRATA_REQUIRE:-}" ] && [ ! -e "$STRATA_REQUIRE" ]; then echo "SKIP: $STRATA_REQUIRE missing (run scripts/setup.sh)"; exit 77; fi
command -v "$1" >/dev/null || [ -x "$1" ] || { echo "SKIP: $1 not installed"; exit 77; }

dir=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$dir"' EXIT
# The port a process logged as "... on http://HOST:PORT (", once it listens.
port_of() {
  for _ in $(seq 1 300); do
    p=$(sed -n 's/.* on http:\/\/[^:]*:\([0-9]*\) .*/\1/p' "$1" | head -1)
    [ -n "$p" ] && { echo "$p"; return 0; }
    sleep 0.1
  done
  echo "did not start:" >&2; cat "$1" >&2; return 1
}
backends=()
for i in 1 2; do
  "$strata" serve -m "$model" --port 0 -t 1 "${flags[@]}" 2>"$dir/serve$i.log" &
  pids+=($!)
done
for i in 1 2; do backends+=(--backend "http://127.0.0.1:$(port_of "$dir/serve$i.log")") || exit 1; done
"$strata" router --port 0 --health-interval 0.2 --readmit-after 1 "${backends[@]}" "${flags[@]}" 2>"$dir/router.log" &
pids+=($!)
port=$(port_of "$dir/router.log") || exit 1
export STRATA_URL="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -sf "$STRATA_URL/health" | grep -q '"healthy":2' && break; sleep 0.1; done
"$@"
rc=$?
if [ $rc -ne 0 ]; then echo "--- router log ---"; tail -30 "$dir/router.log"; fi
exit $rc
