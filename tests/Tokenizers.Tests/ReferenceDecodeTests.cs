using System.Text;
using System.Text.Json.Nodes;

namespace OrleansLlm.Tokenizers.Tests;

/// <summary>Decoding must equal @huggingface/tokenizers: corpus ids and random id sequences, with and without skip_special_tokens.</summary>
public sealed class ReferenceDecodeTests
{
    public static TheoryData<string> Names() => new(ReferenceData.TokenizerNames);

    [Theory]
    [MemberData(nameof(Names))]
    public void Decode_matches_reference_for_corpus_ids(string name)
    {
        var tokenizer = ReferenceData.Tokenizer(name);
        var cases = ReferenceData.Expected(name)["cases"]!.AsArray();
        AssertDecodes(name, tokenizer, cases.Select(c => (c!["id"]!.GetValue<string>(), ReferenceData.Ids(c["ids_special"]), c.AsObject())));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Decode_matches_reference_for_random_id_sequences(string name)
    {
        var tokenizer = ReferenceData.Tokenizer(name);
        var decodes = ReferenceData.Expected(name)["decodes"]!.AsArray();
        Assert.NotEmpty(decodes);
        AssertDecodes(name, tokenizer, decodes.Select((d, i) => ($"random-{i}", ReferenceData.Ids(d!["ids"]), d.AsObject())));
    }

    private static void AssertDecodes(string name, HfTokenizer tokenizer, IEnumerable<(string Id, int[] Ids, JsonObject Expected)> cases)
    {
        var failures = new StringBuilder();
        int failed = 0;
        int count = 0;
        foreach (var (id, ids, expected) in cases)
        {
            count++;
            var checks = new (string Key, string Actual)[]
            {
                ("decode", tokenizer.Decode(ids, skipSpecialTokens: false)),
                ("decode_skip", tokenizer.Decode(ids, skipSpecialTokens: true)),
                ("decode_raw", tokenizer.Decode(ids, skipSpecialTokens: false, cleanUpTokenizationSpaces: false)),
            };
            foreach (var (key, actual) in checks)
            {
                string want = expected[key]!.GetValue<string>();
                if (want != actual)
                {
                    failed++;
                    if (failed <= 5)
                    {
                        failures.AppendLine($"{id} {key} ids [{string.Join(",", ids)}]");
                        failures.AppendLine($"  expected {JsonValue.Create(want)!.ToJsonString()}");
                        failures.AppendLine($"  actual   {JsonValue.Create(actual)!.ToJsonString()}");
                    }
                }
            }
        }
        Assert.True(count > 0, "no decode cases");
        Assert.True(failed == 0, $"{name}: {failed} decodes differ from the reference\n{failures}");
    }
}
