using System.Text;
using System.Text.Json.Nodes;

namespace OrleansLlm.Tokenizers.Tests;

/// <summary>
/// Rendered chat templates must equal @huggingface/jinja's output for every conversation, with
/// and without the generation prompt; where the reference raises, so must we. llama2 has no
/// template, so its expected renders are the ChatML fallback.
/// </summary>
public sealed class ReferenceChatTemplateTests
{
    public static TheoryData<string> Names() => new(ReferenceData.TokenizerNames);

    [Theory]
    [MemberData(nameof(Names))]
    public void Chat_template_matches_reference_for_every_conversation(string name)
    {
        var tokenizer = ReferenceData.Tokenizer(name);
        var conversations = ReferenceData.Conversations();
        var renders = ReferenceData.Expected(name)["templates"]!.AsArray();
        Assert.True(conversations.Count >= 30, $"only {conversations.Count} conversations");
        var failures = new StringBuilder();
        int failed = 0;
        foreach (var render in renders)
        {
            string id = render!["id"]!.GetValue<string>();
            bool addGenerationPrompt = render["add_generation_prompt"]!.GetValue<bool>();
            var conversation = conversations[id];
            var options = new ChatTemplateOptions
            {
                Tools = conversation["tools"]?.DeepClone().AsArray(),
                Variables = conversation["enable_thinking"] is { } thinking
                    ? new Dictionary<string, JsonNode?> { ["enable_thinking"] = thinking.DeepClone() }
                    : null,
            };
            var messages = conversation["messages"]!.DeepClone().AsArray();
            string? actual;
            string? error = null;
            try
            {
                actual = tokenizer.ApplyChatTemplate(messages, addGenerationPrompt, options);
            }
            catch (TokenizerException e)
            {
                actual = null;
                error = e.Message;
            }
            string? expected = render["text"]?.GetValue<string>();
            bool ok = expected is null ? actual is null : actual == expected;
            if (!ok)
            {
                failed++;
                if (failed <= 3)
                {
                    failures.AppendLine($"{id} add_generation_prompt={addGenerationPrompt}");
                    failures.AppendLine($"  expected {(expected is null ? "error: " + render["error"] : JsonValue.Create(expected)!.ToJsonString())}");
                    failures.AppendLine($"  actual   {(actual is null ? "error: " + error : JsonValue.Create(actual)!.ToJsonString())}");
                }
            }
        }
        Assert.True(failed == 0, $"{name}: {failed} of {renders.Count} renders differ from the reference\n{failures}");
    }
}
