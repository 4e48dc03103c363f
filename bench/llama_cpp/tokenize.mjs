// llama.cpp's tokenizer throughput (the prebuilt binaries of node-llama-cpp): a vocab-only load of a GGUF,
// then model.tokenize over a text file with special-token text parsed (llama.cpp's parse_special, as Strata
// and Hugging Face do), no BOS; best of 3. Prints one JSON line like strata_microbench's TokenizerBench.
//
//   node tokenize.mjs --model VOCAB.gguf --text FILE
//
// bench/tokenize_throughput.sh copies it next to node-llama-cpp (the import resolves from there) and runs it.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { model: { type: "string" }, text: { type: "string" } } });
if (!values.model || !values.text) throw new Error("--model VOCAB.gguf and --text FILE are required");

const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
const llama = await getLlama({ gpu: false, build: "never", progressLogs: false, logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: values.model, vocabOnly: true });
const text = readFileSync(values.text, "utf8");
const bytes = Buffer.byteLength(text, "utf8");
let best = Infinity;
let tokens = 0;
for (let rep = 0; rep < 3; ++rep) {
  const t = process.hrtime.bigint();
  tokens = model.tokenize(text, true).length;
  best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e9);
}
process.stdout.write(JSON.stringify({ impl: "llama.cpp " + llama.llamaCppRelease.release, bytes, tokens,
  seconds: Number(best.toFixed(4)), mb_per_s: Number((bytes / 1e6 / best).toFixed(2)) }) + "\n");
await model.dispose();
await llama.dispose();
