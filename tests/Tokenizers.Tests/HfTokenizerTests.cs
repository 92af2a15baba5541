using System.Text.Json.Nodes;

namespace OrleansLlm.Tokenizers.Tests;

/// <summary>Loading, errors and BPE rules on small hand-written tokenizer files (expected ids follow from the files' merges).</summary>
public sealed class HfTokenizerTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"hf-tokenizer-test-{Guid.NewGuid():N}");

    public HfTokenizerTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private HfTokenizer Write(JsonObject tokenizer, JsonObject? config = null)
    {
        return SmallTokenizers.Load(_directory, tokenizer, config);
    }

    private static JsonObject SentencePieceModel(string? normalizer = "Prepend") => SmallTokenizers.SentencePiece(normalizer);

    [Fact]
    public void Equal_ranks_merge_leftmost_first()
    {
        var tokenizer = Write(SentencePieceModel());
        // ranks: a+a=0, a+b=1, ▁+a=2. "▁aaa" merges the leftmost "a a" first, leaving ▁ aa a.
        Assert.Equal([1, 4, 5, 2], tokenizer.Encode("aaa"));
        // "▁ab": a+b (rank 1) beats ▁+a (rank 2) although ▁+a is further left.
        Assert.Equal([4, 6], tokenizer.Encode("ab", addSpecialTokens: false));
    }

    [Fact]
    public void A_long_run_of_one_letter_merges_pairs_from_the_left()
    {
        var tokenizer = Write(SentencePieceModel());
        // 301 symbols (▁ + 300 a) take the heap path; "a a" (a token merged with itself, the pairs
        // that used to share one hash bucket) is rank 0, so the a's pair up from the left into
        // 150 "aa", and neither ▁+aa nor aa+aa has a merge. An odd run leaves the last "a" alone.
        Assert.Equal([4, .. Enumerable.Repeat(5, 150)], tokenizer.Encode(new string('a', 300), addSpecialTokens: false));
        Assert.Equal([4, .. Enumerable.Repeat(5, 150), 2], tokenizer.Encode(new string('a', 301), addSpecialTokens: false));
        // "ab" × 150: "a b" (rank 1) joins every pair; ▁+ab has no merge.
        Assert.Equal([4, .. Enumerable.Repeat(6, 150)], tokenizer.Encode(string.Concat(Enumerable.Repeat("ab", 150)), addSpecialTokens: false));
    }

    [Fact]
    public void Unknown_characters_use_byte_fallback_and_decode_back()
    {
        var tokenizer = Write(SentencePieceModel());
        int[] ids = tokenizer.Encode("é", addSpecialTokens: false);
        Assert.Equal([4, 8, 9], ids);
        Assert.Equal("é", tokenizer.Decode(ids));
        Assert.Equal("<s> é", tokenizer.Decode([1, .. ids]));
        Assert.Equal("é", tokenizer.Decode([1, .. ids], skipSpecialTokens: true));
    }

    [Fact]
    public void Added_tokens_are_matched_before_the_model_and_each_section_is_normalized()
    {
        var tokenizer = Write(SentencePieceModel());
        Assert.Equal([1, 7, 1, 7], tokenizer.Encode("a<s>a"));
    }

    [Fact]
    public void Unsupported_component_type_is_a_clear_error()
    {
        var e = Assert.Throws<TokenizerException>(() => Write(SentencePieceModel(normalizer: "Precompiled")));
        Assert.Contains("Precompiled", e.Message);
    }

    [Fact]
    public void Missing_folder_and_missing_file_are_clear_errors()
    {
        Assert.Contains("does not exist", Assert.Throws<TokenizerException>(() => HfTokenizer.Load(Path.Combine(_directory, "nope"))).Message);
        Assert.Contains("tokenizer.json", Assert.Throws<TokenizerException>(() => HfTokenizer.Load(_directory)).Message);
    }

    [Fact]
    public void Out_of_range_ids_are_rejected()
    {
        var tokenizer = Write(SentencePieceModel());
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([99]));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.CreateDetokenizer().Add(-1));
    }

    [Fact]
    public void Special_token_strings_and_chatml_fallback_come_from_the_config()
    {
        var tokenizer = Write(SentencePieceModel(), new JsonObject { ["bos_token"] = "<s>", ["eos_token"] = new JsonObject { ["content"] = "<unk>" } });
        Assert.Equal("<s>", tokenizer.BosToken);
        Assert.Equal(1, tokenizer.BosTokenId);
        Assert.Equal("<unk>", tokenizer.EosToken);
        Assert.False(tokenizer.HasChatTemplate);
        Assert.Equal("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
            tokenizer.ApplyChatTemplate([new ChatMessage("user", "hi")]));
    }
}
