// Checks texts against JSON schemas with Ajv, a validator Bespoke has no part in.
// Input: a JSON file holding an array of {"schema": {...}, "text": "..."}. Prints one JSON line,
// {"checked": N, "invalid": [{"index", "errors"}]}, and exits 1 if any text fails to parse or
// to validate (2 on bad usage).
// Usage: node validate_json.mjs CASES.json
import Ajv from "ajv";
import fs from "node:fs";

if (process.argv.length !== 3) {
  console.error("usage: node validate_json.mjs CASES.json");
  process.exit(2);
}
const cases = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const ajv = new Ajv({strict: false, allErrors: true});
const invalid = [];
cases.forEach(({schema, text}, index) => {
  let instance;
  try {
    instance = JSON.parse(text);
  } catch (e) {
    invalid.push({index, errors: [`not JSON: ${e.message}`]});
    return;
  }
  const validate = ajv.compile(schema);
  if (!validate(instance)) invalid.push({index, errors: validate.errors.map((e) => `${e.instancePath} ${e.message}`)});
});
console.log(JSON.stringify({checked: cases.length, invalid}));
process.exit(invalid.length ? 1 : 0);
