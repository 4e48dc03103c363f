#!/usr/bin/env bash
# Runs one libFuzzer target for a while: scripts/fuzz.sh TARGET SECONDS
#   TARGET: gguf_fuzz safetensors_fuzz tokenizer_fuzz jinja_fuzz json_schema_fuzz openai_request_fuzz (fuzz/*.cpp), or "list".
# Builds it if needed in $BUILD_DIR (default build-asan: clang, Debug -O1, ASan+UBSan, STRATA_FUZZ=ON, the tree
# .ci/run tests under the sanitizers too). New inputs go to a scratch corpus ($FUZZ_WORK/TARGET/corpus, seeded
# from fuzz/corpus/TARGET, which is never written); crashes, leaks and hangs to $FUZZ_WORK/TARGET/artifacts/.
# Exit status: 0 when nothing was found. Extra arguments after SECONDS go to libFuzzer (e.g. -jobs=2).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(gguf_fuzz safetensors_fuzz tokenizer_fuzz jinja_fuzz json_schema_fuzz openai_request_fuzz)
if [ $# -lt 1 ] || [ "$1" = "list" ]; then
  echo "usage: $0 TARGET SECONDS [libFuzzer args...]; targets: ${TARGETS[*]}"
  [ $# -ge 1 ]; exit $?
fi
TARGET=$1
SECONDS_TO_RUN=${2:-60}
shift $(( $# >= 2 ? 2 : 1 ))
[[ " ${TARGETS[*]} " == *" $TARGET "* ]] || { echo "unknown target '$TARGET'; targets: ${TARGETS[*]}" >&2; exit 2; }

BUILD_DIR=${BUILD_DIR:-build-asan}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DSTRATA_FUZZ=ON ${CMAKE_ARGS:-}
fi
grep -q '^STRATA_FUZZ:BOOL=ON' "$BUILD_DIR/CMakeCache.txt" ||
  { echo "$BUILD_DIR was configured without STRATA_FUZZ=ON" >&2; exit 2; }
cmake --build "$BUILD_DIR" --target "$TARGET"

WORK=${FUZZ_WORK:-$BUILD_DIR/fuzz-work}/$TARGET
mkdir -p "$WORK/corpus" "$WORK/artifacts"
LOG=$WORK/last-run.log
# Leaks are checked by libFuzzer itself; UBSan reports abort (the build uses -fno-sanitize-recover).
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
"$BUILD_DIR/fuzz/$TARGET" -max_total_time="$SECONDS_TO_RUN" -rss_limit_mb=2048 -timeout=10 -max_len=16384 \
  -print_final_stats=1 -artifact_prefix="$WORK/artifacts/" "$@" "$WORK/corpus" "fuzz/corpus/$TARGET" \
  >"$LOG" 2>&1 || status=$?

# libFuzzer's last status line ("#N DONE cov: X ft: Y corp: Z/..") and final stats, as one summary.
last=$(grep -E '^#[0-9]+' "$LOG" | tail -1 || true)
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$LOG" | tail -1)
echo "$TARGET: ${SECONDS_TO_RUN}s, executions ${execs:-?}, corpus $(ls "$WORK/corpus" | wc -l) files" \
     "($(du -sk --apparent-size "$WORK/corpus" | cut -f1) KB), cov: $(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")" \
     "ft: $(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")"
if [ $status -ne 0 ]; then
  echo "$TARGET FAILED (exit $status); log $LOG; artifacts:" >&2
  ls -1 "$WORK/artifacts" >&2
  grep -E -m5 'ERROR: |runtime error:|invariant violated|deadly signal|timeout after' "$LOG" >&2 || tail -30 "$LOG" >&2
fi
exit $status
