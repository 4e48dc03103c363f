#!/usr/bin/env bash
# After some traffic, `promtool check metrics` must accept /metrics (run through run_with_server.sh).
# promtool exits 1 when the exposition does not parse and 3 for lint problems. The one lint we accept is
# "metric names should not contain ':'": vLLM's own names (vllm:num_requests_running, ...) have the colon
# and we keep them so existing dashboards work. Any other lint problem fails the test.
set -uo pipefail
command -v promtool >/dev/null || { echo "SKIP: promtool not installed"; exit 77; }
for i in 1 2 3; do
  curl -sf "$STRATA_URL/v1/completions" -H 'Content-Type: application/json' \
       -d '{"prompt": "Once upon a time", "max_tokens": 8}' >/dev/null || exit 1
done
curl -sf "$STRATA_URL/metrics" > metrics.txt || exit 1
# $EXPECT_METRIC: the sample line that counts those 24 tokens (a Composition of Experts counts per expert).
expect=${EXPECT_METRIC:-'^vllm:generation_tokens_total{.*} 24$'}
grep -q "$expect" metrics.txt || { echo "expected 24 generated tokens ($expect)"; cat metrics.txt; exit 1; }
out=$(promtool check metrics < metrics.txt 2>&1)
rc=$?
echo "$out" | head -5
if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then echo "promtool could not parse /metrics (exit $rc)"; exit 1; fi
other=$(echo "$out" | grep -v "metric names should not contain ':'" | grep -v '^$' || true)
if [ -n "$other" ]; then echo "promtool lint problems:"; echo "$other"; exit 1; fi
echo "promtool parsed $(grep -vc '^#' metrics.txt) samples; only the vLLM-name colon lint reported"
