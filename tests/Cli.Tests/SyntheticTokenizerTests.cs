using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using OrleansLlm.Cli.ModelMaking;
using OrleansLlm.Tokenizers;

namespace OrleansLlm.Cli.Tests;

public class SyntheticTokenizerTests
{
    [Theory]
    [InlineData(2048)]
    [InlineData(151936)] // Qwen3's vocabulary: needs strings of four and more symbols
    public void Every_merge_joins_two_existing_tokens_into_an_existing_token(int vocabSize)
    {
        var tokenizer = SyntheticTokenizer.Create(vocabSize);
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 0; id < tokenizer.Vocab.Count; id++)
        {
            Assert.True(ids.TryAdd(tokenizer.Vocab[id], id), $"token '{tokenizer.Vocab[id]}' appears twice");
        }
        Assert.Equal(vocabSize - 3, tokenizer.Vocab.Count);
        Assert.Equal(vocabSize - 256 - 3, tokenizer.Merges.Count);

        var produced = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (left, right) in tokenizer.Merges)
        {
            Assert.DoesNotContain(' ', left + right);
            Assert.True(ids.ContainsKey(left), $"merge part '{left}' is not in the vocabulary");
            Assert.True(ids.ContainsKey(right), $"merge part '{right}' is not in the vocabulary");
            Assert.True(ids.TryGetValue(left + right, out int result), $"merge result '{left + right}' is not in the vocabulary");
            // Parts come before results, so every token is reachable by applying merges in rank order.
            Assert.True(ids[left] < result && ids[right] < result);
            Assert.True(produced.Add(left + right), $"'{left + right}' is produced by two merges");
        }
        Assert.Equal(new HashSet<string>(tokenizer.Vocab.Skip(256)), produced);
    }

    [Fact]
    public void First_256_ids_are_the_byte_level_alphabet()
    {
        var vocab = SyntheticTokenizer.Create(1024).Vocab;
        Assert.Equal(256, vocab.Take(256).Distinct().Count());
        Assert.All(vocab.Take(256), token => Assert.Single(token));
        Assert.Equal("Ġ", vocab[' ']);
        Assert.Equal("Ċ", vocab['\n']);
        Assert.Equal("A", vocab['A']);
        Assert.Equal("Ā", vocab[0]);
        Assert.Equal("ÿ", vocab[0xFF]);
    }

    [Fact]
    public void Tokenizer_json_is_byte_level_BPE_with_specials_at_the_end()
    {
        var tokenizer = SyntheticTokenizer.Create(4096);
        using var buffer = new MemoryStream();
        tokenizer.WriteTokenizerJson(buffer);
        using var json = JsonDocument.Parse(buffer.ToArray());
        var root = json.RootElement;
        var model = root.GetProperty("model");
        Assert.Equal("BPE", model.GetProperty("type").GetString());
        Assert.False(model.GetProperty("byte_fallback").GetBoolean());
        Assert.Equal("ByteLevel", root.GetProperty("pre_tokenizer").GetProperty("type").GetString());
        Assert.Equal("ByteLevel", root.GetProperty("decoder").GetProperty("type").GetString());

        var vocab = model.GetProperty("vocab").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
        Assert.Equal(4093, vocab.Count);
        Assert.Equal(Enumerable.Range(0, 4093), vocab.Values.Order());
        var merges = model.GetProperty("merges").EnumerateArray().Select(m => m.GetString()!.Split(' ')).ToList();
        Assert.All(merges, m => Assert.Equal(2, m.Length));
        Assert.All(merges, m => Assert.True(vocab.ContainsKey(m[0] + m[1])));

        var added = root.GetProperty("added_tokens").EnumerateArray()
            .ToDictionary(t => t.GetProperty("content").GetString()!, t => t);
        Assert.Equal(4093, added["<|endoftext|>"].GetProperty("id").GetInt32());
        Assert.Equal(4094, added["<|im_start|>"].GetProperty("id").GetInt32());
        Assert.Equal(4095, added["<|im_end|>"].GetProperty("id").GetInt32());
        Assert.All(added.Values, t => Assert.True(t.GetProperty("special").GetBoolean()));
    }

    [Fact]
    public void Tokenizer_config_names_the_same_bos_and_eos_as_the_token_ids()
    {
        var tokenizer = SyntheticTokenizer.Create(1000);
        using var config = JsonDocument.Parse(tokenizer.TokenizerConfigJson(2048));
        var root = config.RootElement;
        string bos = root.GetProperty("bos_token").GetString()!;
        string eos = root.GetProperty("eos_token").GetString()!;
        Assert.Equal(tokenizer.TokenIds.BosTokenId, tokenizer.SpecialId(bos));
        Assert.Equal(tokenizer.TokenIds.EosTokenId, tokenizer.SpecialId(eos));
        Assert.Equal(999, tokenizer.TokenIds.EosTokenId);
        Assert.Equal(bos, root.GetProperty("added_tokens_decoder").GetProperty(tokenizer.TokenIds.BosTokenId!.Value.ToString()).GetProperty("content").GetString());
        Assert.Contains("<|im_start|>", root.GetProperty("chat_template").GetString());
        Assert.Equal(2048, root.GetProperty("model_max_length").GetInt32());
    }

    /// <summary>Plain byte-level BPE as the tokenizers library applies it: split into words with a
    /// leading space, map bytes to symbols, merge the lowest-ranked adjacent pair until none applies.</summary>
    private static List<string> Encode(SyntheticTokenizer tokenizer, string text)
    {
        var ranks = new Dictionary<(string, string), int>();
        for (int i = 0; i < tokenizer.Merges.Count; i++)
        {
            ranks[tokenizer.Merges[i]] = i;
        }
        var tokens = new List<string>();
        foreach (Match word in Regex.Matches(text, @" ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+"))
        {
            var symbols = Encoding.UTF8.GetBytes(word.Value).Select(b => ByteLevelAlphabet.Symbol(b).ToString()).ToList();
            while (true)
            {
                int best = -1;
                int bestRank = int.MaxValue;
                for (int i = 0; i + 1 < symbols.Count; i++)
                {
                    if (ranks.TryGetValue((symbols[i], symbols[i + 1]), out int rank) && rank < bestRank)
                    {
                        (best, bestRank) = (i, rank);
                    }
                }
                if (best < 0)
                {
                    break;
                }
                symbols[best] += symbols[best + 1];
                symbols.RemoveAt(best + 1);
            }
            tokens.AddRange(symbols);
        }
        return tokens;
    }

    [Theory]
    [InlineData(49152, 2.5)]
    [InlineData(151936, 2.7)]
    public void English_text_compresses_into_vocabulary_tokens(int vocabSize, double minimumCharsPerToken)
    {
        const string text = "Hello world, the quick brown fox jumps over the lazy dog. Large language models " +
            "are served as grains; every session remembers its conversation and finds the engine that holds its cache.";
        var tokenizer = SyntheticTokenizer.Create(vocabSize);
        var vocab = tokenizer.Vocab.ToHashSet(StringComparer.Ordinal);
        var tokens = Encode(tokenizer, text);
        Assert.All(tokens, token => Assert.Contains(token, vocab));
        Assert.Equal(string.Concat(text.Select(c => ByteLevelAlphabet.Symbol((byte)c))), string.Concat(tokens));
        double charsPerToken = (double)text.Length / tokens.Count;
        Assert.True(charsPerToken >= minimumCharsPerToken, $"{charsPerToken:F2} characters per token: {string.Join("|", tokens)}");
    }

    [Fact]
    public void A_vocabulary_smaller_than_the_byte_alphabet_is_refused()
    {
        var error = Assert.Throws<ModelMakingException>(() => SyntheticTokenizer.Create(200));
        Assert.Contains("vocab_size 200", error.Message);
    }
}
