// Times llama.cpp's tokenizer on a text file with a GGUF's vocabulary; prints JSON
// {"bytes", "tokens", "seconds", "bytes_per_second"} for the best of `repeats` runs (model
// loading excluded).
// Usage: node tokenize_speed.mjs MODEL.gguf CORPUS.txt [repeats]
import {getLlama, LlamaLogLevel} from "node-llama-cpp";
import fs from "node:fs";

const [modelPath, corpusPath, repeatsArg] = process.argv.slice(2);
const text = fs.readFileSync(corpusPath, "utf8");
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath, vocabOnly: true});
let best = Infinity, tokens = 0;
for (let i = 0; i < Number(repeatsArg ?? 2); ++i) {
  const start = process.hrtime.bigint();
  tokens = model.tokenize(text, false).length;
  best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
}
const bytes = Buffer.byteLength(text, "utf8");
console.log(JSON.stringify({bytes, tokens, seconds: best, bytes_per_second: bytes / best}));
process.exit(0);
