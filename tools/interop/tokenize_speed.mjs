// Times llama.cpp's tokenizer on a text file with a GGUF's vocabulary; prints JSON
// {"bytes", "tokens", "seconds": [one per run]} for `repeats` runs (model loading excluded), so
// that the caller applies to them the statistic it applies to its own runs.
// Usage: node tokenize_speed.mjs MODEL.gguf CORPUS.txt [repeats]
import {getLlama, LlamaLogLevel} from "node-llama-cpp";
import fs from "node:fs";

const [modelPath, corpusPath, repeatsArg] = process.argv.slice(2);
const text = fs.readFileSync(corpusPath, "utf8");
const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath, vocabOnly: true});
const seconds = [];
let tokens = 0;
for (let i = 0; i < Number(repeatsArg ?? 5); ++i) {
  const start = process.hrtime.bigint();
  tokens = model.tokenize(text, false).length;
  seconds.push(Number(process.hrtime.bigint() - start) / 1e9);
}
const bytes = Buffer.byteLength(text, "utf8");
process.stdout.write(JSON.stringify({bytes, tokens, seconds}) + "\n", () => process.exit(0));
