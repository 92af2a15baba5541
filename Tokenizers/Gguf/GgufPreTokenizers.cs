using System.Text.Json.Nodes;

namespace OrleansLlm.Tokenizers.Gguf;

/// <summary>
/// `tokenizer.ggml.pre` names (llama.cpp's pre-tokenizer names) as the tokenizer.json normalizer
/// and pre-tokenizer that split text the same way. Only names whose split our pre-tokenizers
/// reproduce exactly are known; any other is refused by name.
/// </summary>
internal static class GgufPreTokenizers
{
    /// <summary>Llama 3's Split regex (llama.cpp writes the case-insensitive group as [sS] classes; same matches).</summary>
    public const string Llama3Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Qwen2's: Llama 3's with single digits.</summary>
    public const string Qwen2Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>What a name means: the normalizer, the pre-tokenizer, and BPE's ignore_merges (llama.cpp sets it for llama-bpe).</summary>
    public sealed record Definition(string Name, JsonNode? Normalizer, JsonNode PreTokenizer, bool IgnoreMerges);

    /// <summary>The names we write, in the order a tokenizer is matched against them.</summary>
    public static IReadOnlyList<Definition> Written { get; } =
    [
        new("llama-bpe", null, SplitThenBytes(Llama3Pattern), IgnoreMerges: true),
        new("qwen2", new JsonObject { ["type"] = "NFC" }, SplitThenBytes(Qwen2Pattern), IgnoreMerges: false),
        new("smollm", null, new JsonObject
        {
            ["type"] = "Sequence",
            ["pretokenizers"] = new JsonArray(
                new JsonObject { ["type"] = "Digits", ["individual_digits"] = true },
                ByteLevel(useRegex: true)),
        }, IgnoreMerges: false),
        new("gpt-2", null, ByteLevel(useRegex: true), IgnoreMerges: false),
    ];

    /// <summary>Names read as one of <see cref="Written"/>: llama.cpp's aliases of the same split.
    /// "default" is read as GPT-2's regex, which is what a byte-level HF tokenizer without a
    /// Split does (llama.cpp's own "default" adds punctuation and digit splits we do not apply).</summary>
    private static readonly Dictionary<string, string> s_aliases = new(StringComparer.Ordinal)
    {
        ["llama3"] = "llama-bpe",
        ["llama-v3"] = "llama-bpe",
        ["deepseek-r1-qwen"] = "qwen2",
        ["default"] = "gpt-2",
    };

    public static IEnumerable<string> KnownNames => Written.Select(d => d.Name).Concat(s_aliases.Keys);

    public static Definition Find(string name)
    {
        string canonical = s_aliases.GetValueOrDefault(name, name);
        return Written.FirstOrDefault(d => d.Name == canonical)
            ?? throw new TokenizerException(
                $"GGUF pre-tokenizer \"{name}\" is not supported (known: {string.Join(", ", KnownNames)})");
    }

    /// <summary>The name whose definition equals a tokenizer.json's normalizer and pre-tokenizer (offset options ignored), or null.</summary>
    public static Definition? Match(JsonNode? normalizer, JsonNode? preTokenizer)
    {
        var pre = WithoutOffsetOptions(preTokenizer);
        return Written.FirstOrDefault(d =>
            JsonNode.DeepEquals(d.Normalizer, normalizer) && JsonNode.DeepEquals(WithoutOffsetOptions(d.PreTokenizer), pre));
    }

    private static JsonObject SplitThenBytes(string pattern) => new()
    {
        ["type"] = "Sequence",
        ["pretokenizers"] = new JsonArray(
            new JsonObject
            {
                ["type"] = "Split",
                ["pattern"] = new JsonObject { ["Regex"] = pattern },
                ["behavior"] = "Isolated",
                ["invert"] = false,
            },
            ByteLevel(useRegex: false)),
    };

    private static JsonObject ByteLevel(bool useRegex) => new()
    {
        ["type"] = "ByteLevel",
        ["add_prefix_space"] = false,
        ["trim_offsets"] = true,
        ["use_regex"] = useRegex,
    };

    /// <summary>A copy without trim_offsets, which only changes offsets, never ids.</summary>
    private static JsonNode? WithoutOffsetOptions(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                var copy = new JsonObject();
                foreach (var (key, value) in obj)
                {
                    if (key != "trim_offsets")
                    {
                        copy[key] = WithoutOffsetOptions(value);
                    }
                }
                return copy;
            case JsonArray array:
                return new JsonArray(array.Select(WithoutOffsetOptions).ToArray());
            default:
                return node?.DeepClone();
        }
    }
}
