using System.Text;
using System.Text.Json.Nodes;
using OrleansLlm.Gguf;
using OrleansLlm.Tokenizers.Gguf;

namespace OrleansLlm.Tokenizers.Tests.Gguf;

/// <summary>
/// The real reference tokenizers written as GGUF tokenizer metadata and read back must encode the
/// whole corpus to the same ids as their tokenizer.json, decode the same, and render the same chat
/// templates. Expected values come from the tokenizer.json path, which the Reference* tests check
/// against @huggingface/tokenizers.
/// </summary>
public sealed class GgufTokenizerTests
{
    public static TheoryData<string> Names() => new("llama3", "llama3_1", "qwen3", "llama2");

    [Theory]
    [MemberData(nameof(Names))]
    public void Gguf_tokenizer_encodes_every_corpus_text_like_tokenizer_json(string name)
    {
        var (original, gguf) = Load(name);
        Assert.Equal(original.VocabSize, gguf.VocabSize);
        var texts = ReferenceData.Texts().Values.ToList();
        Assert.True(texts.Count >= 300, $"corpus has only {texts.Count} texts");
        var failures = new StringBuilder();
        int failed = 0;
        foreach (string text in texts)
        {
            foreach (bool addSpecial in new[] { true, false })
            {
                int[] expected = original.Encode(text, addSpecial);
                int[] actual = gguf.Encode(text, addSpecial);
                if (!expected.AsSpan().SequenceEqual(actual) && ++failed <= 3)
                {
                    failures.AppendLine($"{JsonValue.Create(text)!.ToJsonString()} add_special={addSpecial}");
                    failures.AppendLine($"  expected [{string.Join(",", expected)}]");
                    failures.AppendLine($"  actual   [{string.Join(",", actual)}]");
                }
            }
        }
        Assert.True(failed == 0, $"{name}: {failed} encodings differ\n{failures}");
    }

    /// <summary>GGUF has no clean_up_tokenization_spaces (llama.cpp never cleans up), so both decode with clean-up off.</summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void Gguf_tokenizer_decodes_like_tokenizer_json(string name)
    {
        var (original, gguf) = Load(name);
        Assert.False(gguf.CleanUpTokenizationSpaces);
        int failed = 0;
        string first = "";
        foreach (string text in ReferenceData.Texts().Values)
        {
            int[] ids = original.Encode(text, addSpecialTokens: true);
            foreach (bool skip in new[] { true, false })
            {
                string expected = original.Decode(ids, skip, cleanUpTokenizationSpaces: false);
                string actual = gguf.Decode(ids, skip, cleanUpTokenizationSpaces: false);
                if (expected != actual && ++failed == 1)
                {
                    first = $"{JsonValue.Create(expected)!.ToJsonString()} != {JsonValue.Create(actual)!.ToJsonString()}";
                }
            }
        }
        Assert.True(failed == 0, $"{name}: {failed} decodes differ, first: {first}");
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Gguf_tokenizer_keeps_special_tokens_and_chat_template(string name)
    {
        var (original, gguf) = Load(name);
        Assert.Equal(original.BosToken is null ? null : original.BosTokenId, gguf.BosTokenId);
        Assert.Equal(original.EosTokenId, gguf.EosTokenId);
        Assert.Equal(original.EosTokenIds, gguf.EosTokenIds);
        Assert.Equal(original.HasChatTemplate, gguf.HasChatTemplate);
        for (int id = 0; id < original.VocabSize; id++)
        {
            Assert.Equal(original.IsSpecial(id), gguf.IsSpecial(id));
        }
        foreach (var conversation in ReferenceData.Conversations().Values)
        {
            var options = new ChatTemplateOptions
            {
                Tools = conversation["tools"]?.DeepClone().AsArray(),
                Variables = conversation["enable_thinking"] is { } thinking
                    ? new Dictionary<string, JsonNode?> { ["enable_thinking"] = thinking.DeepClone() }
                    : null,
            };
            foreach (bool prompt in new[] { true, false })
            {
                string? expected = Render(original, conversation, prompt, options);
                string? actual = Render(gguf, conversation, prompt, options);
                Assert.Equal(expected, actual);
            }
        }
    }

    /// <summary>The check of rebuilding SentencePiece merges from scores: Llama 2's tokenizer.json merges were made
    /// by HF's converter from the real scores; the scores we write must rebuild exactly that list.</summary>
    [Fact]
    public void Llama2_scores_rebuild_the_tokenizer_json_merges()
    {
        ReferenceData.RequireAvailable();
        var metadata = new GgufMetadata();
        GgufTokenizerMetadata.Add(metadata, ReferenceData.ModelDirectory("llama2"));
        Assert.Equal("llama", metadata.GetString(GgufTokenizerKeys.Model));
        string[] tokens = metadata.GetArray<string>(GgufTokenizerKeys.Tokens)!;
        float[] scores = metadata.GetArray<float>(GgufTokenizerKeys.Scores)!;
        var rebuilt = SentencePieceMerges.Build(tokens, scores).Select(m => m.Left + " " + m.Right).ToList();
        using var files = TokenizerFiles.Read(ReferenceData.ModelDirectory("llama2"));
        var expected = files.Tokenizer.RootElement.GetProperty("model").GetProperty("merges").EnumerateArray()
            .Select(m => m.GetString()!).ToList();
        Assert.Equal(expected.Count, rebuilt.Count);
        Assert.Equal(expected, rebuilt);
        int[] types = metadata.GetArray<int>(GgufTokenizerKeys.TokenType)!;
        Assert.Equal((int)GgufTokenType.Byte, types[Array.IndexOf(tokens, "<0x41>")]);
        Assert.Equal((int)GgufTokenType.Unknown, types[Array.IndexOf(tokens, "<unk>")]);
        Assert.Equal((int)GgufTokenType.Control, types[Array.IndexOf(tokens, "<s>")]);
    }

    [Theory]
    [InlineData("llama3", "gpt2", "llama-bpe", false)]
    [InlineData("llama3_1", "gpt2", "llama-bpe", true)]
    [InlineData("qwen3", "gpt2", "qwen2", false)]
    [InlineData("llama2", "llama", "default", true)]
    public void Metadata_names_the_model_pre_tokenizer_and_bos(string name, string model, string pre, bool addBos)
    {
        ReferenceData.RequireAvailable();
        var metadata = new GgufMetadata();
        GgufTokenizerMetadata.Add(metadata, ReferenceData.ModelDirectory(name));
        Assert.Equal(model, metadata.GetString(GgufTokenizerKeys.Model));
        Assert.Equal(pre, metadata.GetString(GgufTokenizerKeys.Pre));
        Assert.Equal(addBos, metadata.GetBool(GgufTokenizerKeys.AddBosToken));
        Assert.False(metadata.GetBool(GgufTokenizerKeys.AddEosToken));
    }

    [Fact]
    public void Padding_ids_past_the_tokenizer_are_unused_tokens_without_a_string()
    {
        ReferenceData.RequireAvailable();
        var original = ReferenceData.Tokenizer("qwen3");
        var metadata = new GgufMetadata();
        GgufTokenizerMetadata.Add(metadata, ReferenceData.ModelDirectory("qwen3"), vocabSize: original.VocabSize + 5);
        string[] tokens = metadata.GetArray<string>(GgufTokenizerKeys.Tokens)!;
        Assert.Equal(original.VocabSize + 5, tokens.Length);
        Assert.Equal($"[PAD{original.VocabSize}]", tokens[original.VocabSize]);
        Assert.Equal((int)GgufTokenType.Unused, metadata.GetArray<int>(GgufTokenizerKeys.TokenType)![original.VocabSize]);
        var gguf = HfTokenizer.LoadGguf(metadata, "padded");
        Assert.Null(gguf.TokenToId($"[PAD{original.VocabSize}]"));
    }

    [Fact]
    public void Unknown_pre_tokenizer_name_is_refused_by_name()
    {
        var metadata = new GgufMetadata();
        metadata.Set(GgufTokenizerKeys.Model, GgufValue.Of("gpt2"));
        metadata.Set(GgufTokenizerKeys.Pre, GgufValue.Of("no-such-pre"));
        metadata.Set(GgufTokenizerKeys.Tokens, GgufValue.Array(new[] { "a", "b" }));
        metadata.Set(GgufTokenizerKeys.Merges, GgufValue.Array(Array.Empty<string>()));
        var e = Assert.Throws<TokenizerException>(() => HfTokenizer.LoadGguf(metadata, "x.gguf"));
        Assert.Contains("no-such-pre", e.Message);
        Assert.Contains("llama-bpe", e.Message);
    }

    private static string? Render(HfTokenizer tokenizer, JsonObject conversation, bool prompt, ChatTemplateOptions options)
    {
        try
        {
            return tokenizer.ApplyChatTemplate(conversation["messages"]!.DeepClone().AsArray(), prompt, options);
        }
        catch (TokenizerException e)
        {
            return "error: " + e.Message;
        }
    }

    private static readonly Dictionary<string, (HfTokenizer, HfTokenizer)> s_loaded = new();

    /// <summary>The tokenizer.json tokenizer and the same written to a .gguf file (no tensors) and loaded from it.</summary>
    private static (HfTokenizer Original, HfTokenizer Gguf) Load(string name)
    {
        lock (s_loaded)
        {
            if (!s_loaded.TryGetValue(name, out var pair))
            {
                var original = ReferenceData.Tokenizer(name);
                var writer = new GgufWriter(new MemoryStream());
                GgufTokenizerMetadata.Add(writer.Metadata, ReferenceData.ModelDirectory(name));
                string path = Path.Combine(Path.GetTempPath(), $"orleansllm-tokenizer-{name}-{Guid.NewGuid():N}.gguf");
                try
                {
                    using (var stream = File.Create(path))
                    {
                        var fileWriter = new GgufWriter(stream);
                        foreach (string key in writer.Metadata.Keys)
                        {
                            fileWriter.Metadata.Set(key, writer.Metadata[key]);
                        }
                        fileWriter.Finish();
                    }
                    pair = (original, HfTokenizer.Load(path));
                }
                finally
                {
                    File.Delete(path);
                }
                s_loaded[name] = pair;
            }
            return pair;
        }
    }
}
