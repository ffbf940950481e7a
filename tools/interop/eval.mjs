// Loads a GGUF in llama.cpp and prints JSON: for `--ids`, the next-token log-probabilities at
// every position and `--greedy N` greedy tokens after them (and the seconds they took); for `--text` (repeatable), the
// token ids llama.cpp's tokenizer gives each text (special tokens parsed, no BOS added); for
// `--texts FILE.json` (an array of strings), the same for each.
// `--time-decode N` with `--ids` times greedy decoding instead, `--repeats R` times over: each
// run evaluates the prompt (prefill_seconds) and then N tokens one at a time (decode_seconds),
// asking llama.cpp for the greedy token only; the tokens are printed too (prompt's next first).
// `--threads T` sets llama.cpp's threads (default: 2, or fewer CPUs).
// Always: load_seconds (the model's load), peak_rss_bytes (the process's peak resident set) and
// base_rss_bytes (what it held before the load).
// Exact comparisons need an F32 KV cache and no flash attention (which keeps F16 K/V).
// Usage: node eval.mjs MODEL.gguf [--ids 1,2,3] [--greedy 16] [--text "..."]... [--texts F.json]
//        node eval.mjs MODEL.gguf --ids 1,2,3 --time-decode 32 [--repeats 5] [--threads 2]
import {getLlama, LlamaLogLevel} from "node-llama-cpp";
import fs from "node:fs";
import os from "node:os";

const args = process.argv.slice(2);
const modelPath = args[0];
let ids = [], greedy = 0, timeDecode = 0, repeats = 5, threads = Math.min(2, os.cpus().length);
const texts = [];
for (let i = 1; i < args.length; i += 2) {
  if (args[i] === "--ids") ids = args[i + 1].split(",").map(Number);
  else if (args[i] === "--greedy") greedy = Number(args[i + 1]);
  else if (args[i] === "--time-decode") timeDecode = Number(args[i + 1]);
  else if (args[i] === "--repeats") repeats = Number(args[i + 1]);
  else if (args[i] === "--threads") threads = Number(args[i + 1]);
  else if (args[i] === "--text") texts.push(args[i + 1]);
  else if (args[i] === "--texts") texts.push(...JSON.parse(fs.readFileSync(args[i + 1], "utf8")));
  else throw new Error(`unknown argument ${args[i]}`);
}

// llama.cpp explains a failed load only through its log.
const log = [];
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.warn,
                              logger: (level, message) => log.push(message)});
// Kilobytes of a /proc/self/status field: the resident set now (VmRSS) or at its peak (VmHWM).
const statusKb = (field) => Number(fs.readFileSync("/proc/self/status", "utf8").match(new RegExp(`${field}:\\s+(\\d+)`))[1]);
const rssBeforeLoad = statusKb("VmRSS");
const loadStarted = performance.now();
let model;
try {
  model = await llama.loadModel({modelPath});
} catch (e) {
  console.error(`llama.cpp could not load ${modelPath}: ${log.join(" ").trim()}`);
  process.exit(3);
}
const out = {load_seconds: (performance.now() - loadStarted) / 1000};
const newContext = (tokens) => model.createContext({
  contextSize: Math.max(64, tokens + 8), threads, flashAttention: false,
  experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32"});
if (texts.length) out.tokens = texts.map((t) => Array.from(model.tokenize(t, true)));
if (ids.length && timeDecode) {
  // The greedy token alone: asking for the probabilities would build and sort a map over the
  // whole vocabulary at every step, which for a small model costs more than its forward.
  const sequence = (await newContext(ids.length + timeDecode + 1)).getSequence();
  const next = async (tokens) => {
    const results = await sequence.controlledEvaluate(tokens.map((t, i) =>
        i === tokens.length - 1 ? [t, {generateNext: {token: true, options: {temperature: 0}}}] : t));
    return results[tokens.length - 1].next.token;
  };
  out.prefill_seconds = [];
  out.decode_seconds = [];
  for (let r = 0; r < repeats; ++r) {
    await sequence.clearHistory();
    const started = performance.now();
    out.greedy = [await next(ids)];
    const prefilled = performance.now();
    for (let i = 0; i < timeDecode; ++i) out.greedy.push(await next([out.greedy[out.greedy.length - 1]]));
    out.decode_seconds.push((performance.now() - prefilled) / 1000);
    out.prefill_seconds.push((prefilled - started) / 1000);
  }
} else if (ids.length) {
  const context = await newContext(ids.length + greedy);
  const sequence = context.getSequence();
  const vocab = model.tokens.vocabSize ?? model.fileInfo.metadata.tokenizer.ggml.tokens.length;
  // At temperature 0 only the greedy sampler runs: the map is the full softmax.
  const step = (tokens) => sequence.controlledEvaluate(tokens.map((t) =>
      [t, {generateNext: {probabilities: true, options: {temperature: 0}}}]));
  const toLogprobs = (probs) => {
    const row = new Array(vocab).fill(-Infinity);
    for (const [token, p] of probs) row[token] = Math.log(p);
    return row;
  };
  const results = await step(ids);
  out.logprobs = results.map((r) => toLogprobs(r.next.probabilities));
  out.greedy = [];
  let last = results[results.length - 1].next.probabilities;
  for (let i = 0; i < greedy; ++i) {
    let best = -1, bestP = -1;
    for (const [token, p] of last) if (p > bestP) best = token, bestP = p;
    out.greedy.push(best);
    last = (await step([best]))[0].next.probabilities;
  }
}
// The process's peak, and what it held before the model: node and llama.cpp's library.
out.peak_rss_bytes = statusKb("VmHWM") * 1024;
out.base_rss_bytes = rssBeforeLoad * 1024;
// process.exit right after a write to a pipe can cut the output short: exit once it is flushed.
process.stdout.write(JSON.stringify(out) + "\n", () => process.exit(0));
