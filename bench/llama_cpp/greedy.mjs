// llama.cpp's greedy continuation of a prompt given as token ids, for checking Strata's top-1 against it:
// evaluates the ids, then decodes --gen tokens greedily one at a time, and prints one JSON line
// {"engine":"llama.cpp","tokens":[...]} on stdout (llama.cpp's log goes to stderr).
//
//   node greedy.mjs --llama-cpp DIR --model FILE --ids 1,2,3 [--gen 8] [--threads 1]
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
    gen: { type: "string", default: "8" },
    threads: { type: "string", default: "1" },
  },
});
const ids = (v.ids ?? "").split(",").filter((s) => s !== "").map(Number);
const gen = Number.parseInt(v.gen, 10), threads = Number.parseInt(v.threads, 10);
if (!v.model || ids.length === 0 || !ids.every(Number.isInteger) || !(gen >= 1) || !(threads >= 1)) {
  process.stderr.write("usage: node greedy.mjs --llama-cpp DIR --model FILE --ids 1,2,3 [--gen N] [--threads N]\n");
  process.exit(2);
}

const greedy = { generateNext: { token: true, options: { temperature: 0 } } };

async function next(sequence, tokens) {
  const out = await sequence.controlledEvaluate(tokens.map((id, i) => (i + 1 < tokens.length ? id : [id, greedy])));
  const token = out[tokens.length - 1]?.next?.token;
  if (token == null) throw new Error("llama.cpp returned no next token");
  return token;
}

async function main() {
  const entry = join(v["llama-cpp"], "node_modules", "node-llama-cpp", "dist", "index.js");
  const { getLlama, LlamaLogLevel } = await import(pathToFileURL(entry).href);
  const llama = await getLlama({
    gpu: false, build: "never", progressLogs: false, logLevel: LlamaLogLevel.warn,
    logger: (level, message) => process.stderr.write(`llama.cpp ${level}: ${message}\n`),
  });
  const model = await llama.loadModel({ modelPath: v.model, gpuLayers: 0 });
  const context = await model.createContext({
    contextSize: ids.length + gen + 16, sequences: 1, threads: { ideal: threads, min: threads },
  });
  const sequence = context.getSequence();
  const tokens = [await next(sequence, ids)];
  while (tokens.length < gen) tokens.push(await next(sequence, [tokens[tokens.length - 1]]));
  process.stdout.write(JSON.stringify({ engine: "llama.cpp", tokens }) + "\n");
  await context.dispose();
  await model.dispose();
  await llama.dispose();
}

main().catch((e) => {
  process.stderr.write(`greedy.mjs: ${e?.stack ?? e}\n`);
  process.exit(1);
});
