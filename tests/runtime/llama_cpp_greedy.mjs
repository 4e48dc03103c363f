// Greedy tokens from llama.cpp (the prebuilt CPU binaries of node-llama-cpp, installed by
// bench/llama_cpp/setup.sh in DIR) for the converted-model test: evaluates the prompt ids, then takes the
// argmax token step by step; also tokenizes --text with the file's own vocabulary (no BOS, as text).
//
//   node llama_cpp_greedy.mjs --dir DIR --model FILE --ids 1,2,3 --n 16 [--text "..."] [--texts FILE]
// Prints one JSON line: {"tokens": [...], "text_ids": [...] | null, "texts_ids": [[...], ...] | null}; the texts
// of FILE (a JSON array of strings) are tokenized with special tokens parsed, as llama.cpp's common_tokenize
// does with parse_special.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const { values: o } = parseArgs({
  options: { dir: { type: "string" }, model: { type: "string" }, ids: { type: "string" }, n: { type: "string" },
             text: { type: "string" }, texts: { type: "string" } },
});
const entry = pathToFileURL(join(o.dir, "node_modules/node-llama-cpp/dist/index.js")).href;
const { getLlama, LlamaLogLevel } = await import(entry);
const llama = await getLlama({ gpu: false, build: "never", progressLogs: false, logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: o.model, gpuLayers: 0 });
const context = await model.createContext({ contextSize: 256, sequences: 1, threads: { ideal: 2, min: 1 } });
const sequence = context.getSequence();
const greedy = { generateNext: { token: true, options: { temperature: 0 } } };

async function evaluate(ids) {
  const out = await sequence.controlledEvaluate(ids.map((id, i) => (i + 1 < ids.length ? id : [id, greedy])));
  const next = out[ids.length - 1]?.next?.token;
  if (next == null) throw new Error("llama.cpp returned no next token");
  return next;
}

const tokens = [];
let next = await evaluate(o.ids.split(",").map(Number));
for (let i = 0; i < Number(o.n); ++i) {
  tokens.push(next);
  if (i + 1 < Number(o.n)) next = await evaluate([next]);
}
const text_ids = o.text === undefined ? null : Array.from(model.tokenize(o.text, false));
const texts_ids = o.texts === undefined ? null
  : JSON.parse(readFileSync(o.texts, "utf8")).map((t) => Array.from(model.tokenize(t, true)));
process.stdout.write(JSON.stringify({ tokens, text_ids, texts_ids }) + "\n");
await context.dispose();
await model.dispose();
await llama.dispose();
