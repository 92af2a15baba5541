using System.Text;

namespace OrleansLlm.Tokenizers.Tests;

/// <summary>Streaming decode: what the detokenizer emits, concatenated, equals a full decode, and every piece is stable text.</summary>
public sealed class IncrementalDetokenizerTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"detokenizer-test-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    // Independent checks on SmallTokenizers' hand-written files: the expected text is what the ids spell by construction.

    [Fact]
    public void Byte_level_pieces_that_split_a_character_wait_for_its_last_byte()
    {
        var tokenizer = SmallTokenizers.Load(_directory, SmallTokenizers.ByteLevel());
        var detokenizer = tokenizer.CreateDetokenizer(cleanUpTokenizationSpaces: false);
        Assert.Equal("hi", detokenizer.Add(256));
        Assert.Equal("", detokenizer.Add(257));   // F0 9F: half of 🎉
        Assert.Equal("🎉", detokenizer.Add(258)); // 8E 89 completes it
        Assert.Equal("", detokenizer.Add(0xC3));  // first byte of é, one byte per token
        Assert.Equal("é", detokenizer.Add(0xA9));
        Assert.Equal(" w", detokenizer.Add(259));
        Assert.Equal("", detokenizer.Flush());
        Assert.Equal([256, 257, 258, 0xC3, 0xA9, 259], tokenizer.Encode("hi🎉é w", addSpecialTokens: false));
    }

    [Fact]
    public void Byte_level_bytes_left_incomplete_at_the_end_flush_as_one_replacement_character()
    {
        var tokenizer = SmallTokenizers.Load(_directory, SmallTokenizers.ByteLevel());
        var detokenizer = tokenizer.CreateDetokenizer();
        Assert.Equal("", detokenizer.Add(257));
        Assert.Equal("�", detokenizer.Flush()); // F0 9F is one maximal subpart of an invalid sequence
    }

    [Fact]
    public void Special_tokens_are_skipped_or_kept_as_asked()
    {
        var tokenizer = SmallTokenizers.Load(_directory, SmallTokenizers.ByteLevel());
        int[] ids = [256, SmallTokenizers.EndId, 259];
        Assert.Equal([256, SmallTokenizers.EndId, 259], tokenizer.Encode("hi<|end|> w", addSpecialTokens: false));
        var skipping = tokenizer.CreateDetokenizer(skipSpecialTokens: true, cleanUpTokenizationSpaces: false);
        Assert.Equal("hi w", string.Concat(ids.Select(skipping.Add)) + skipping.Flush());
        var keeping = tokenizer.CreateDetokenizer(skipSpecialTokens: false, cleanUpTokenizationSpaces: false);
        Assert.Equal("hi<|end|> w", string.Concat(ids.Select(keeping.Add)) + keeping.Flush());
    }

    [Fact]
    public void Byte_fallback_tokens_join_into_one_character()
    {
        var tokenizer = SmallTokenizers.Load(_directory, SmallTokenizers.SentencePiece());
        var detokenizer = tokenizer.CreateDetokenizer(skipSpecialTokens: true);
        Assert.Equal("", detokenizer.Add(1));    // <s>, skipped
        Assert.Equal("a", detokenizer.Add(7));   // ▁a, its space stripped as the first token
        Assert.Equal("", detokenizer.Add(4));    // ▁ (a space: may still be cleaned up)
        Assert.Equal("", detokenizer.Add(8));    // <0xC3>
        Assert.Equal(" é", detokenizer.Add(9));  // <0xA9>
        Assert.Equal("", detokenizer.Flush());
    }

    [Fact]
    public void Streamed_text_equals_full_decode_for_random_ids_of_a_small_byte_level_tokenizer()
    {
        var tokenizer = SmallTokenizers.Load(_directory, SmallTokenizers.ByteLevel());
        var random = new Random(3);
        int[] interesting = [0x20, 0x2E, 0x3F, 0x41, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x8E, 0x89, 256, 257, 258, 259, SmallTokenizers.EndId];
        for (int sequence = 0; sequence < 500; sequence++)
        {
            int[] ids = Enumerable.Range(0, random.Next(1, 12)).Select(_ => interesting[random.Next(interesting.Length)]).ToArray();
            foreach (bool skip in new[] { false, true })
            {
                var detokenizer = tokenizer.CreateDetokenizer(skip);
                string streamed = string.Concat(ids.Select(detokenizer.Add)) + detokenizer.Flush();
                Assert.Equal(tokenizer.Decode(ids, skip), streamed);
            }
        }
    }

    public static TheoryData<string> Names() => new(ReferenceData.TokenizerNames);

    [Theory]
    [MemberData(nameof(Names))]
    public void Streamed_text_equals_full_decode_for_corpus_and_random_ids(string name)
    {
        var tokenizer = ReferenceData.Tokenizer(name);
        var expected = ReferenceData.Expected(name);
        var sequences = expected["cases"]!.AsArray().Select(c => ReferenceData.Ids(c!["ids_special"]))
            .Concat(expected["decodes"]!.AsArray().Select(d => ReferenceData.Ids(d!["ids"])))
            .ToList();
        foreach (var (skip, cleanUp) in new (bool, bool?)[] { (false, null), (true, null), (false, false), (true, true) })
        {
            foreach (int[] ids in sequences)
            {
                var detokenizer = tokenizer.CreateDetokenizer(skip, cleanUp);
                var streamed = new StringBuilder();
                foreach (int id in ids)
                {
                    string piece = detokenizer.Add(id);
                    Assert.False(piece.Length > 0 && char.IsHighSurrogate(piece[^1]), "emitted half a surrogate pair");
                    streamed.Append(piece);
                }
                streamed.Append(detokenizer.Flush());
                Assert.Equal(tokenizer.Decode(ids, skip, cleanUp), streamed.ToString());
            }
        }
    }

    [Fact]
    public void Clean_up_waits_for_the_character_after_a_space()
    {
        var tokenizer = ReferenceData.Tokenizer("llama3");
        Assert.True(tokenizer.CleanUpTokenizationSpaces);
        var detokenizer = tokenizer.CreateDetokenizer();
        int[] ids = new[] { "Hello", "\u0120", "." }.Select(t => tokenizer.TokenToId(t)!.Value).ToArray(); // \u0120 is the byte-level space
        var pieces = ids.Select(detokenizer.Add).ToList();
        Assert.Equal(["Hello", "", ""], pieces); // " ." may still grow into " .." or be followed by a letter
        Assert.Equal(".", detokenizer.Flush());
        Assert.Equal("Hello.", tokenizer.Decode(ids));
        var words = tokenizer.CreateDetokenizer();
        Assert.Equal("the", string.Concat(tokenizer.Encode("the", addSpecialTokens: false).Select(words.Add)));
    }

    [Fact]
    public void A_character_split_across_byte_tokens_is_held_until_complete()
    {
        var tokenizer = ReferenceData.Tokenizer("llama2");
        int[] ids = tokenizer.Encode("🎉", addSpecialTokens: false);
        Assert.True(ids.Length > 1, "expected the emoji to need byte-fallback tokens");
        var detokenizer = tokenizer.CreateDetokenizer();
        for (int i = 0; i < ids.Length - 1; i++)
        {
            Assert.Equal("", detokenizer.Add(ids[i]));
        }
        Assert.Equal("🎉", detokenizer.Add(ids[^1]).TrimStart());
    }

    [Fact]
    public void SentencePiece_leading_space_is_stripped_once()
    {
        var tokenizer = ReferenceData.Tokenizer("llama2");
        int[] ids = tokenizer.Encode("Hello world", addSpecialTokens: false);
        var detokenizer = tokenizer.CreateDetokenizer();
        string first = detokenizer.Add(ids[0]);
        Assert.Equal("Hello", first);
        Assert.Equal(" world", string.Concat(ids.Skip(1).Select(detokenizer.Add)) + detokenizer.Flush());
    }

    [Fact]
    public void An_incomplete_sequence_at_the_end_becomes_a_replacement_character()
    {
        var tokenizer = ReferenceData.Tokenizer("qwen3");
        int[] ids = tokenizer.Encode("é", addSpecialTokens: false);
        var byteToken = tokenizer.TokenToId("Ã"); // the byte-level character of 0xC3, the first byte of "é"
        Assert.NotNull(byteToken);
        var detokenizer = tokenizer.CreateDetokenizer();
        Assert.Equal("", detokenizer.Add(byteToken.Value));
        Assert.Equal("\uFFFD", detokenizer.Flush());
        Assert.NotEmpty(ids);
    }
}
