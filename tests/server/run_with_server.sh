#!/usr/bin/env bash
# Starts `strata serve` on a free port over a model, waits until it is healthy, runs the given command with
# STRATA_URL set, then stops the server. Exit code 77 (CTest's skip) when the model or a tool is missing.
# usage: run_with_server.sh STRATA_BINARY DEFAULT_TESTDATA MODEL_RELATIVE [serve flags...] -- COMMAND...
# ($STRATA_TESTDATA overrides DEFAULT_TESTDATA; an absolute MODEL, one the tests generate, is used as it is;
# $STRATA_REQUIRE names a path whose absence means skip.)
# With $COE_CONFIG (a Composition of Experts YAML whose model paths are file names), the server is
# `serve --coe` over that config placed beside the GGUF files of MODEL's folder.
set -uo pipefail
strata=$1 model="${STRATA_TESTDATA:-$2}/$3"
[[ $3 == /* ]] && model=$3
shift 3
serve_flags=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do serve_flags+=("$1"); shift; done
shift
if [ ! -f "$model" ]; then echo "SKIP: $model not found (set STRATA_TESTDATA)"; exit 77; fi
 if [ -n "${STRATA_REQUIRE:-}" ] && [ ! -e "$STRATA_REQUIRE" ]; then echo "SKIP: $STRATA_REQUIRE missing (run scripts/setup.sh)"; exit 77; fi
if ! command -v "$1" >/dev/null && [ ! -x "$1" ]; then echo "SKIP: $1 not installed"; exit 77; fi

log=$(mktemp)
source_flags=(-m "$model")
if [ -n "${COE_CONFIG:-}" ]; then
  coe_dir=$(mktemp -d)
  ln -s "$(dirname "$model")"/*.gguf "$coe_dir"/ && cp "$COE_CONFIG" "$coe_dir/coe.yaml"
  source_flags=(--coe "$coe_dir/coe.yaml")
fi
"$strata" serve "${source_flags[@]}" --port 0 -t 2 "${serve_flags[@]}" 2>"$log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"; [ -z "${coe_dir:-}" ] || rm -rf "$coe_dir"' EXIT
port=""
for _ in $(seq 1 300); do
  port=$(sed -n 's/.* on http:\/\/[^:]*:\([0-9]*\) .*/\1/p' "$log" | head -1)
  [ -n "$port" ] && break
  kill -0 $pid 2>/dev/null || { echo "server exited:"; cat "$log"; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "server did not start:"; cat "$log"; exit 1; }
export STRATA_URL="http://127.0.0.1:$port"
"$@"
rc=$?
if [ $rc -ne 0 ]; then echo "--- server log ---"; tail -50 "$log"; fi
exit $rc
