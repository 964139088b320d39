// Validates store-http's OpenAPI document (gateway/test/openapi.sh):
//   node validate.mjs OPENAPI.json [SNAPSHOT.json]
// 1. the document against the OpenAPI 3.1 schemas (@seriousme/openapi-schema-validator), and every
//    internal $ref resolves;
// 2. with a snapshot (GET /store/ as the same caller): the snapshot against components.schemas.Snapshot
//    and each document against its key's schema (Ajv, JSON Schema 2020-12, standard formats checked).
// Prints "valid" or the errors; exits 1 when anything is invalid.
import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const [specFile, snapshotFile] = process.argv.slice(2);
const spec = JSON.parse(readFileSync(specFile, "utf8"));
let failed = false;

// Reports a failure with its details.
function fail(what, details) {
  failed = true;
  console.log(`invalid: ${what}`);
  if (details !== undefined) console.log(JSON.stringify(details, null, 1).slice(0, 4000));
}

const validator = new Validator();
const result = await validator.validate(spec);
if (!result.valid) fail("the OpenAPI 3.1 document", result.errors);
if (validator.version !== "3.1") fail(`OpenAPI version ${validator.version}, expected 3.1`);

// Every "$ref" of spec, as JSON pointers into it.
function refs(node, out = []) {
  if (Array.isArray(node)) node.forEach((n) => refs(n, out));
  else if (node && typeof node === "object")
    for (const [k, v] of Object.entries(node)) (k === "$ref" && typeof v === "string" ? out.push(v) : refs(v, out));
  return out;
}
for (const ref of refs(spec)) {
  let node = ref.startsWith("#/") ? spec : undefined;
  for (const part of ref.slice(2).split("/")) node = node?.[part.replace(/~1/g, "/").replace(/~0/g, "~")];
  if (node === undefined) fail(`$ref ${ref} does not resolve`);
}

if (snapshotFile) {
  const snapshot = JSON.parse(readFileSync(snapshotFile, "utf8"));
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  // formats that are annotations only (PostgreSQL's type names, OpenAPI's int32, ...)
  const formats = new Set();
  (function collect(node) {
    if (Array.isArray(node)) node.forEach(collect);
    else if (node && typeof node === "object")
      for (const [k, v] of Object.entries(node)) (k === "format" && typeof v === "string" ? formats.add(v) : collect(v));
  })(spec.components.schemas);
  for (const f of formats) if (!ajv.formats[f]) ajv.addFormat(f, true);
  ajv.addSchema({ $id: "openapi.json", components: spec.components }, "openapi.json");
  const whole = ajv.getSchema("openapi.json#/components/schemas/Snapshot");
  if (!whole(snapshot)) fail("the snapshot against Snapshot", whole.errors);
  let documents = 0;
  for (const [key, docs] of Object.entries(snapshot)) {
    if (key === "version") continue;
    const check = ajv.getSchema(`openapi.json#/components/schemas/${key}`);
    if (!check) {
      fail(`no schema for key ${key}`);
      continue;
    }
    for (const doc of docs) {
      documents++;
      if (!check(doc)) fail(`a document of ${key}: ${JSON.stringify(doc).slice(0, 300)}`, check.errors);
    }
  }
  console.log(`${documents} documents checked`);
}
console.log(failed ? "invalid" : "valid");
process.exit(failed ? 1 : 0);
