using System.Text.Json.Nodes;

namespace OrleansLlm.Tokenizers.Tests;

/// <summary>
/// Hand-written tokenizer.json files small enough that every expected id and text in the tests that
/// use them follows from reading the file (no reference implementation, no code under test).
/// </summary>
internal static class SmallTokenizers
{
    // A SentencePiece-style model: vocab a, b, ▁, aa, ab, ▁a and byte fallback for 'é' (<0xC3> <0xA9>).
    public static JsonObject SentencePiece(string? normalizer = "Prepend") => new()
    {
        ["added_tokens"] = new JsonArray(
            new JsonObject { ["id"] = 0, ["content"] = "<unk>", ["special"] = true },
            new JsonObject { ["id"] = 1, ["content"] = "<s>", ["special"] = true }),
        ["normalizer"] = normalizer switch
        {
            "Prepend" => JsonNode.Parse("""{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"▁"},{"type":"Replace","pattern":{"String":" "},"content":"▁"}]}"""),
            null => null,
            _ => new JsonObject { ["type"] = normalizer },
        },
        ["pre_tokenizer"] = null,
        ["post_processor"] = JsonNode.Parse("""{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],"special_tokens":{"<s>":{"id":"<s>","ids":[1],"tokens":["<s>"]}}}"""),
        ["decoder"] = JsonNode.Parse("""{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]}"""),
        ["model"] = JsonNode.Parse("""
            {"type":"BPE","unk_token":"<unk>","byte_fallback":true,"fuse_unk":true,
             "vocab":{"<unk>":0,"<s>":1,"a":2,"b":3,"▁":4,"aa":5,"ab":6,"▁a":7,"<0xC3>":8,"<0xA9>":9},
             "merges":["a a","a b","▁ a"]}
            """),
    };

    /// <summary>Id of the special added token of <see cref="ByteLevel"/>.</summary>
    public const int EndId = 260;

    /// <summary>
    /// A GPT-2 style byte-level model: ids 0–255 are the bytes (id = byte value, written with the
    /// byte-to-unicode alphabet), then 256 = "hi", 257 = the first two bytes of "🎉" (F0 9F),
    /// 258 = its last two (8E 89), 259 = "Ġw" (space + w), 260 = the special token "&lt;|end|&gt;".
    /// </summary>
    public static JsonObject ByteLevel()
    {
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++)
        {
            vocab[ByteLevelAlphabet.Symbol((byte)b).ToString()] = b;
        }
        string s(params byte[] bytes) => string.Concat(bytes.Select(ByteLevelAlphabet.Symbol));
        vocab[s((byte)'h', (byte)'i')] = 256;
        vocab[s(0xF0, 0x9F)] = 257;
        vocab[s(0x8E, 0x89)] = 258;
        vocab[s((byte)' ', (byte)'w')] = 259;
        return new JsonObject
        {
            ["added_tokens"] = new JsonArray(new JsonObject { ["id"] = EndId, ["content"] = "<|end|>", ["special"] = true }),
            ["normalizer"] = null,
            ["pre_tokenizer"] = JsonNode.Parse("""{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true}"""),
            ["post_processor"] = null,
            ["decoder"] = JsonNode.Parse("""{"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true,"use_regex":true}"""),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["vocab"] = vocab,
                ["merges"] = new JsonArray(
                    $"{s((byte)'h')} {s((byte)'i')}",
                    $"{s(0xF0)} {s(0x9F)}",
                    $"{s(0x8E)} {s(0x89)}",
                    $"{s((byte)' ')} {s((byte)'w')}"),
            },
        };
    }

    /// <summary>Writes the files into <paramref name="directory"/> and loads them.</summary>
    public static HfTokenizer Load(string directory, JsonObject tokenizer, JsonObject? config = null)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "tokenizer.json"), tokenizer.ToJsonString());
        if (config is not null)
        {
            File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), config.ToJsonString());
        }
        return HfTokenizer.Load(directory);
    }
}
