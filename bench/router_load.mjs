// A small load generator for `strata serve` and `strata router` (Node.js 18+, no packages): N non-streaming
// completions with C in flight, then requests/s, failures and latency percentiles as one JSON line.
// usage: node bench/router_load.mjs --url http://127.0.0.1:8080 [--requests 64] [--concurrency 8]
//        [--max-tokens 16] [--prefixes 0] [--prefix-chars 600] [--key KEY]
// --prefixes P > 0: each prompt starts with one of P long shared "system prompts" (round robin over them), the
// workload where prefix-affinity routing pays off.
const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith("--") ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
const url = args.url || "http://127.0.0.1:8080";
const requests = Number(args.requests || 64);
const concurrency = Number(args.concurrency || 8);
const maxTokens = Number(args["max-tokens"] || 16);
const prefixes = Number(args.prefixes || 0);
const prefixChars = Number(args["prefix-chars"] || 600);
const tag = args.tag || String(process.pid);

function prompt(i) {
  if (prefixes <= 0) return `Once upon a time, in story ${i},`;
  let system = `[${tag}] System prompt ${i % prefixes}:`;
  while (system.length < prefixChars) system += " You are a helpful assistant who answers briefly and kindly.";
  return `${system}\nUser question ${i}?`;
}

const latencies = [];
let failures = 0;
let next = 0;
async function worker() {
  while (next < requests) {
    const i = next++;
    const t0 = performance.now();
    try {
      const res = await fetch(`${url}/v1/completions`, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...(args.key ? { Authorization: `Bearer ${args.key}` } : {}) },
        body: JSON.stringify({ prompt: prompt(i), max_tokens: maxTokens, ignore_eos: true }),
      });
      const body = await res.json();
      if (res.status !== 200 || !body.choices) failures++;
    } catch {
      failures++;
    }
    latencies.push(performance.now() - t0);
  }
}
const start = performance.now();
await Promise.all(Array.from({ length: concurrency }, worker));
const seconds = (performance.now() - start) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
console.log(JSON.stringify({
  url, requests, concurrency, max_tokens: maxTokens, failures,
  seconds: +seconds.toFixed(3), requests_per_s: +(requests / seconds).toFixed(2),
  p50_ms: +pct(50).toFixed(1), p95_ms: +pct(95).toFixed(1),
}));
