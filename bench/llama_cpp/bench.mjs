// Prompt-processing and decode speed of llama.cpp (the prebuilt CPU binaries of the node-llama-cpp npm package)
// on one GGUF file, measured the way `strata bench -m` measures Strata: the same pseudo-random prompt
// (id = 3 + (i*7919) % (n_vocab-3)), processed in batches of --batch tokens, then --gen tokens decoded greedily
// one at a time. A short warm-up first (weights paged in, compute buffers touched), like llama-bench.
//
//   node bench.mjs --model FILE --threads N --prompt P --gen G [--batch B] [--warmup W] [--log-level info]
//   node bench.mjs --check      # loads the prebuilt binary and prints the version line only
//
// Prints one JSON line on stdout; llama.cpp's log goes to stderr. Installed next to node-llama-cpp by
// bench/llama_cpp/setup.sh (the import below resolves from this file's directory).
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

function options() {
  const { values } = parseArgs({
    options: {
      model: { type: "string" },
      threads: { type: "string", default: "1" },
      prompt: { type: "string", default: "512" },
      gen: { type: "string", default: "128" },
      batch: { type: "string", default: "512" },
      warmup: { type: "string", default: "16" },
      "log-level": { type: "string", default: "warn" },
      check: { type: "boolean", default: false },
    },
  });
  const o = { model: values.model, logLevel: values["log-level"], check: values.check };
  for (const k of ["threads", "prompt", "gen", "batch", "warmup"]) o[k] = Number.parseInt(values[k], 10);
  if (!o.model && !o.check) throw new Error("--model FILE is required");
  for (const k of ["threads", "prompt", "gen", "batch"])
    if (!(o[k] >= 1)) throw new Error(`--${k} must be a positive integer`);
  if (!(o.warmup >= 0)) throw new Error("--warmup must be >= 0");
  return o;
}

// The package's version from its package.json (which its "exports" do not expose): up from its entry point.
function packageVersion() {
  let dir = dirname(fileURLToPath(import.meta.resolve("node-llama-cpp")));
  for (; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, "utf8"));
    if (pkg.name === "node-llama-cpp") return pkg.version;
  }
  return "unknown";
}

// The vocabulary size: the token list's length, else the embedding tensor's second dimension.
function vocabSize(model) {
  const tokens = model.fileInfo.metadata?.tokenizer?.ggml?.tokens;
  if (Array.isArray(tokens) && tokens.length > 3) return tokens.length;
  const embd = model.fileInfo.tensorInfo?.find((t) => t.name === "token_embd.weight");
  if (embd) return Number(embd.dimensions[1]);
  throw new Error("cannot tell the vocabulary size of " + model.filename);
}

const greedy = { generateNext: { token: true, options: { temperature: 0 } } };

// Evaluates `ids` and returns the greedy next token after the last one.
async function evaluate(sequence, ids) {
  const input = ids.map((id, i) => (i + 1 < ids.length ? id : [id, greedy]));
  const out = await sequence.controlledEvaluate(input);
  const next = out[ids.length - 1]?.next?.token;
  if (next == null) throw new Error("llama.cpp returned no next token");
  return next;
}

async function measure(sequence, o, nVocab) {
  const ids = Array.from({ length: o.prompt }, (_, i) => 3 + ((i * 7919) % (nVocab - 3)));
  if (o.warmup > 0) {
    const next = await evaluate(sequence, ids.slice(0, Math.min(o.warmup, o.prompt)));
    await evaluate(sequence, [next]);
    await sequence.clearHistory();
  }
  let t = process.hrtime.bigint();
  let next = await evaluate(sequence, ids);
  const ppSeconds = Number(process.hrtime.bigint() - t) / 1e9;
  t = process.hrtime.bigint();
  for (let i = 0; i < o.gen; ++i) next = await evaluate(sequence, [next]);
  const tgSeconds = Number(process.hrtime.bigint() - t) / 1e9;
  return { ppSeconds, tgSeconds };
}

async function main() {
  const o = options();
  const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
  const llama = await getLlama({
    gpu: false, build: "never", maxThreads: 0, progressLogs: false,
    logLevel: Object.values(LlamaLogLevel).includes(o.logLevel) ? o.logLevel : LlamaLogLevel.warn,
    logger: (level, message) => process.stderr.write(`llama.cpp ${level}: ${message}\n`),
  });
  const version = `${llama.llamaCppRelease.release} (node-llama-cpp ${packageVersion()})`;
  if (o.check) {
    process.stdout.write(JSON.stringify({ engine: "llama.cpp", version }) + "\n");
    return llama.dispose();
  }
  const model = await llama.loadModel({ modelPath: o.model, gpuLayers: 0 });
  const nVocab = vocabSize(model);
  const context = await model.createContext({
    contextSize: o.prompt + o.gen + 16, batchSize: o.batch, sequences: 1,
    threads: { ideal: o.threads, min: o.threads },
  });
  const sequence = context.getSequence();
  const m = await measure(sequence, o, nVocab);
  const line = {
    engine: "llama.cpp",
    version,
    threads: o.threads, prompt: o.prompt, generated: o.gen, batch: context.batchSize,
    pp_tps: o.prompt / m.ppSeconds, tg_tps: o.gen / m.tgSeconds,
    flash_attn: context.flashAttention, n_vocab: nVocab,
  };
  process.stdout.write(JSON.stringify(line) + "\n");
  await context.dispose();
  await model.dispose();
  await llama.dispose();
}

main().catch((e) => {
  process.stderr.write(`bench.mjs: ${e?.stack ?? e}\n`);
  process.exit(1);
});
