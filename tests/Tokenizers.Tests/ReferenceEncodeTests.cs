using System.Text;
using System.Text.Json.Nodes;

namespace OrleansLlm.Tokenizers.Tests;

/// <summary>Encoding of the whole corpus must equal @huggingface/tokenizers' ids, with and without special tokens.</summary>
public sealed class ReferenceEncodeTests
{
    public static TheoryData<string> Names() => new(ReferenceData.TokenizerNames);

    [Theory]
    [MemberData(nameof(Names))]
    public void Encode_matches_reference_on_every_corpus_text(string name)
    {
        var tokenizer = ReferenceData.Tokenizer(name);
        var texts = ReferenceData.Texts();
        var cases = ReferenceData.Expected(name)["cases"]!.AsArray();
        Assert.True(cases.Count >= 300, $"corpus has only {cases.Count} texts");
        var failures = new StringBuilder();
        int failed = 0;
        foreach (var item in cases)
        {
            string id = item!["id"]!.GetValue<string>();
            string text = texts[id];
            foreach (var (addSpecial, key) in new[] { (true, "ids_special"), (false, "ids_plain") })
            {
                int[] expected = ReferenceData.Ids(item[key]);
                int[] actual = tokenizer.Encode(text, addSpecial);
                if (!expected.AsSpan().SequenceEqual(actual))
                {
                    failed++;
                    if (failed <= 5)
                    {
                        failures.AppendLine($"{id} ({key}): text {JsonValue.Create(text)!.ToJsonString()}");
                        failures.AppendLine($"  expected [{string.Join(",", expected)}]");
                        failures.AppendLine($"  actual   [{string.Join(",", actual)}]");
                    }
                }
            }
        }
        Assert.True(failed == 0, $"{name}: {failed} encodings differ from the reference\n{failures}");
    }

    /// <summary>600 seeded random strings per tokenizer (fragments chosen by generate-expected.mjs to stress every stage).</summary>
    [Theory]
    [MemberData(nameof(Names))]
    public void Encode_matches_reference_on_fuzz_texts(string name)
    {
        var tokenizer = ReferenceData.Tokenizer(name);
        var cases = ReferenceData.Expected(name)["fuzz"]!.AsArray();
        Assert.NotEmpty(cases);
        var failures = new StringBuilder();
        int failed = 0;
        foreach (var item in cases)
        {
            string text = item!["text"]!.GetValue<string>();
            foreach (var (addSpecial, key) in new[] { (true, "ids_special"), (false, "ids_plain") })
            {
                int[] expected = ReferenceData.Ids(item[key]);
                int[] actual = tokenizer.Encode(text, addSpecial);
                if (!expected.AsSpan().SequenceEqual(actual) && ++failed <= 5)
                {
                    failures.AppendLine($"{item["id"]} ({key}): text {JsonValue.Create(text)!.ToJsonString()}");
                    failures.AppendLine($"  expected [{string.Join(",", expected)}]");
                    failures.AppendLine($"  actual   [{string.Join(",", actual)}]");
                }
            }
        }
        Assert.True(failed == 0, $"{name}: {failed} fuzz encodings differ from the reference\n{failures}");
    }
}
