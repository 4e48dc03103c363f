// llama.cpp's greedy continuation of a prompt given as token ids, with its top-k next-token probabilities at
// every step, for checking Strata's distributions against it: evaluates the ids, then decodes --gen tokens
// greedily one at a time, and prints one JSON line on stdout (llama.cpp's log goes to stderr):
//
//   {"engine":"llama.cpp","tokens":[...],"steps":[{"top":[[id,prob],...]},...]}
//
// Step i is the distribution that produced tokens[i]. The probabilities are the softmax (in double) of the full
// raw logits: temperature 0 selects node-llama-cpp's greedy chain, which has no top-k/top-p/temperature stage,
// and no repeat penalty or token bias is given, so the logits it hands back are llama.cpp's own. The script
// checks that (one logit per vocabulary entry, the greedy token is the argmax) and fails otherwise. The KV cache
// is F32 and flash attention off, so the reference is not rounded through F16 anywhere the weights don't say.
//
//   node topk.mjs --llama-cpp DIR --model FILE --ids 1,2,3 [--gen 24] [--top 5] [--threads 1]
//
// DIR is the install of bench/llama_cpp/setup.sh; the package is imported from it by path, so this script
// runs from the repository.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const { values: v } = parseArgs({
  options: {
    "llama-cpp": { type: "string", default: "/tmp/strata-llama-cpp" },
    model: { type: "string" },
    ids: { type: "string" },
    gen: { type: "string", default: "24" },
    top: { type: "string", default: "5" },
    threads: { type: "string", default: "1" },
  },
});
const ids = (v.ids ?? "").split(",").filter((s) => s !== "").map(Number);
const gen = Number.parseInt(v.gen, 10), top = Number.parseInt(v.top, 10), threads = Number.parseInt(v.threads, 10);
if (!v.model || ids.length === 0 || !ids.every(Number.isInteger) || !(gen >= 1) || !(top >= 1) || !(threads >= 1)) {
  process.stderr.write("usage: node topk.mjs --llama-cpp DIR --model FILE --ids 1,2,3 [--gen N] [--top K] [--threads N]\n");
  process.exit(2);
}

const step = { generateNext: { token: true, logits: true, options: { temperature: 0 } } };

// Softmax of the whole logits map in double; returns the greedy token and the `top` most probable [id, p].
function distribution(next, nVocab) {
  const { token, logits } = next;
  if (token == null || logits == null) throw new Error("llama.cpp returned no next token or logits");
  if (logits.size !== nVocab) throw new Error(`llama.cpp returned ${logits.size} logits, the vocabulary has ${nVocab}`);
  let max = -Infinity, argmax = -1;
  for (const [id, l] of logits) if (l > max) [max, argmax] = [l, id];
  if (logits.get(token) !== max) throw new Error(`greedy token ${token} is not the argmax ${argmax}`);
  let sum = 0;
  for (const l of logits.values()) sum += Math.exp(l - max);
  const ranked = [...logits].sort((a, b) => b[1] - a[1]).slice(0, top);
  return { token, top: ranked.map(([id, l]) => [id, Math.exp(l - max) / sum]) };
}

async function next(sequence, tokens, nVocab) {
  const out = await sequence.controlledEvaluate(tokens.map((id, i) => (i + 1 < tokens.length ? id : [id, step])));
  return distribution(out[tokens.length - 1]?.next ?? {}, nVocab);
}

async function main() {
  const entry = join(v["llama-cpp"], "node_modules", "node-llama-cpp", "dist", "index.js");
  const { getLlama, LlamaLogLevel, GgmlType } = await import(pathToFileURL(entry).href);
  const llama = await getLlama({
    gpu: false, build: "never", progressLogs: false, logLevel: LlamaLogLevel.warn,
    logger: (level, message) => process.stderr.write(`llama.cpp ${level}: ${message}\n`),
  });
  const model = await llama.loadModel({ modelPath: v.model, gpuLayers: 0 });
  const context = await model.createContext({
    contextSize: ids.length + gen + 16, sequences: 1, threads: { ideal: threads, min: threads },
    flashAttention: false, experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32",
  });
  if (context.flashAttention || context.kvCacheKeyType !== GgmlType.F32 || context.kvCacheValueType !== GgmlType.F32)
    throw new Error("llama.cpp context is not F32 KV cache without flash attention");
  const nVocab = model.fileInfo.metadata.tokenizer?.ggml?.tokens?.length;  // llama.cpp's n_vocab
  const sequence = context.getSequence();
  const steps = [await next(sequence, ids, nVocab)];
  while (steps.length < gen) steps.push(await next(sequence, [steps[steps.length - 1].token], nVocab));
  const tokens = steps.map((s) => s.token);
  process.stdout.write(JSON.stringify({ engine: "llama.cpp", tokens, steps: steps.map((s) => ({ top: s.top })) }) + "\n");
  await context.dispose();
  await model.dispose();
  await llama.dispose();
}

main().catch((e) => {
  process.stderr.write(`topk.mjs: ${e?.stack ?? e}\n`);
  process.exit(1);
});
