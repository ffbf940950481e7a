// Loads only a GGUF's vocabulary in llama.cpp (vocabOnly: a file without tensors loads too) and
// prints JSON: `tokens`, the ids llama.cpp's tokenizer gives each text of TEXTS.json (an array of
// strings; special tokens parsed, no BOS added), and how it reads the special tokens: `bos` and
// `eos` (ids, or null), `bos_text` and `eos_text`, `add_bos` and `add_eos` (whether encoding with
// special tokens adds them).
// Usage: node tokenize_vocab.mjs MODEL.gguf TEXTS.json
import {getLlama, LlamaLogLevel} from "node-llama-cpp";
import fs from "node:fs";

const [modelPath, textsPath] = process.argv.slice(2);
const texts = JSON.parse(fs.readFileSync(textsPath, "utf8"));

// llama.cpp explains a failed load only through its log.
const log = [];
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.warn,
                              logger: (level, message) => log.push(message)});
let model;
try {
  model = await llama.loadModel({modelPath, vocabOnly: true});
} catch (e) {
  console.error(`llama.cpp could not load ${modelPath}: ${log.join(" ").trim()}`);
  process.exit(3);
}
const t = model.tokens;
const out = {
  tokens: texts.map((text) => Array.from(model.tokenize(text, true))),
  bos: t.bos, eos: t.eos, bos_text: t.bosString, eos_text: t.eosString,
  add_bos: t.shouldPrependBosToken, add_eos: t.shouldAppendEosToken,
};
// process.exit right after a write to a pipe can cut the output short: exit once it is flushed.
process.stdout.write(JSON.stringify(out) + "\n", () => process.exit(0));
