// Encode throughput of @huggingface/tokenizers (the JavaScript reference) on a corpus file,
// single-threaded, for `orleansllm bench tokenizer`, which runs it beside the C# tokenizer.
// Usage: node bench.mjs --tokenizer DIR --corpus FILE.jsonl [--repeat N] [--ids-out FILE]
// The corpus is JSON lines of {"text": "..."}; prints one JSON object. --ids-out writes each
// document's ids (one JSON array per line) so the caller can check its own ids are identical.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";

function argument(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0 || index + 1 >= process.argv.length) {
    if (fallback !== undefined) return fallback;
    console.error(`missing --${name}`);
    process.exit(2);
  }
  return process.argv[index + 1];
}

const dir = argument("tokenizer");
const corpusPath = argument("corpus");
const repeat = Number(argument("repeat", "3"));
const tokenizer = new Tokenizer(
  JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8")),
  JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8")),
);
const texts = readFileSync(corpusPath, "utf8").split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l).text);
const bytes = texts.reduce((sum, t) => sum + Buffer.byteLength(t, "utf8"), 0);

const idsOut = argument("ids-out", "");
let tokens = 0;
const allIds = [];
for (const text of texts) { // warm-up, and the ids to compare
  const ids = tokenizer.encode(text, { add_special_tokens: false }).ids;
  tokens += ids.length;
  if (idsOut) allIds.push(JSON.stringify(Array.from(ids)));
}
if (idsOut) writeFileSync(idsOut, allIds.join("\n") + "\n");

let best = Infinity;
for (let r = 0; r < repeat; ++r) {
  const start = process.hrtime.bigint();
  let count = 0;
  for (const text of texts) count += tokenizer.encode(text, { add_special_tokens: false }).ids.length;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  best = Math.min(best, seconds);
  tokens = count;
}

console.log(JSON.stringify({
  implementation: "@huggingface/tokenizers",
  node: process.version,
  documents: texts.length,
  bytes,
  tokens,
  seconds: best,
  mb_per_s: bytes / 1e6 / best,
}));
