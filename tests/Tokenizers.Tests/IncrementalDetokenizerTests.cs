using System.Text;

namespace OrleansLlm.Tokenizers.Tests;

/// <summary>Streaming decode: what the detokenizer emits, concatenated, equals a full decode, and every piece is stable text.</summary>
public sealed class IncrementalDetokenizerTests
{
    public static TheoryData<string> Names() => new(ReferenceData.TokenizerNames);

    [ReferenceTheory]
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

    [ReferenceFact]
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

    [ReferenceFact]
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

    [ReferenceFact]
    public void SentencePiece_leading_space_is_stripped_once()
    {
        var tokenizer = ReferenceData.Tokenizer("llama2");
        int[] ids = tokenizer.Encode("Hello world", addSpecialTokens: false);
        var detokenizer = tokenizer.CreateDetokenizer();
        string first = detokenizer.Add(ids[0]);
        Assert.Equal("Hello", first);
        Assert.Equal(" world", string.Concat(ids.Skip(1).Select(detokenizer.Add)) + detokenizer.Flush());
    }

    [ReferenceFact]
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
