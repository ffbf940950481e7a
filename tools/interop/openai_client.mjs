// Drives an OpenAI-compatible server with the official `openai` package, as any client would:
// chat (plain, streamed, json_schema), completions (plain, streamed), models and embeddings.
// Each json_schema answer is checked with Ajv. Prints one JSON object with what it saw, and
// exits 1 at the first answer that is not what the API promises.
// Usage: node openai_client.mjs BASE_URL API_KEY     (BASE_URL like http://127.0.0.1:8080/v1)
import OpenAI from "openai";
import Ajv from "ajv";

const [baseURL, apiKey] = process.argv.slice(2);
if (!baseURL || !apiKey) {
  console.error("usage: node openai_client.mjs BASE_URL API_KEY");
  process.exit(2);
}
const client = new OpenAI({baseURL, apiKey, maxRetries: 0, timeout: 120000});
const seen = {};
function check(ok, what) {
  if (!ok) {
    console.log(JSON.stringify({failed: what, seen}));
    process.exit(1);
  }
}
const messages = [{role: "user", content: "Say something."}];

const models = await client.models.list();
seen.models = models.data.map((m) => m.id);
check(models.data.length >= 1 && models.data[0].object === "model", "models.list");
const model = models.data[0].id;

const plain = await client.chat.completions.create({model, messages, max_tokens: 12});
seen.chat = plain.choices[0];
check(typeof plain.choices[0].message.content === "string", "chat content");
check(["stop", "length"].includes(plain.choices[0].finish_reason), "chat finish_reason");
check(plain.usage.total_tokens === plain.usage.prompt_tokens + plain.usage.completion_tokens, "chat usage");

let streamed = "";
let finish = null;
const stream = await client.chat.completions.create({model, messages, max_tokens: 12, stream: true});
for await (const chunk of stream) {
  if (chunk.choices.length && chunk.choices[0].delta.content) streamed += chunk.choices[0].delta.content;
  if (chunk.choices.length && chunk.choices[0].finish_reason) finish = chunk.choices[0].finish_reason;
}
seen.streamed = streamed;
check(streamed === plain.choices[0].message.content, "streamed chat equals the plain answer (greedy)");
check(finish === plain.choices[0].finish_reason, "streamed finish_reason");

const schema = {
  type: "object",
  additionalProperties: false,
  required: ["kind", "tags", "score", "note"],
  properties: {
    kind: {type: "string", enum: ["fact", "event", "plan"]},
    tags: {type: "array", items: {type: "string"}, minItems: 1, maxItems: 3},
    score: {type: "integer"},
    note: {anyOf: [{type: "null"}, {$ref: "#/$defs/note"}]},
  },
  $defs: {note: {type: "object", additionalProperties: false, required: ["text"], properties: {text: {type: "string"}}}},
};
const structured = await client.chat.completions.create({
  model, messages, max_tokens: 200,
  response_format: {type: "json_schema", json_schema: {name: "memo", strict: true, schema}},
});
seen.json_schema = structured.choices[0].message.content;
const ajv = new Ajv({strict: false});
let parsed = null;
try {
  parsed = JSON.parse(structured.choices[0].message.content);
} catch {}
check(parsed !== null && ajv.validate(schema, parsed), "json_schema answer valid by Ajv: " + JSON.stringify(ajv.errors));

const completion = await client.completions.create({model, prompt: "Once upon a time", max_tokens: 8});
seen.completion = completion.choices[0];
check(typeof completion.choices[0].text === "string" && completion.object === "text_completion", "completion");
let completed = "";
for await (const chunk of await client.completions.create({model, prompt: "Once upon a time", max_tokens: 8, stream: true}))
  if (chunk.choices.length) completed += chunk.choices[0].text;
check(completed === completion.choices[0].text, "streamed completion equals the plain one");

// The package asks for base64 by default and decodes it to floats itself.
const embedded = await client.embeddings.create({model, input: ["first text", "second text"]});
seen.embedding_dims = embedded.data.map((d) => d.embedding.length);
for (const d of embedded.data) {
  const norm = Math.sqrt(d.embedding.reduce((s, x) => s + x * x, 0));
  check(Math.abs(norm - 1) < 1e-4, "embedding unit norm");
}
const asFloats = await client.embeddings.create({model, input: "first text", encoding_format: "float"});
check(asFloats.data[0].embedding.every((x, i) => Math.abs(x - embedded.data[0].embedding[i]) < 1e-6),
      "base64 and float embeddings agree");

let refused = null;
try {
  await new OpenAI({baseURL, apiKey: "wrong", maxRetries: 0}).models.list();
} catch (e) {
  refused = e.status;
}
check(refused === 401, "a wrong key is a 401");
console.log(JSON.stringify({ok: true, seen}));
