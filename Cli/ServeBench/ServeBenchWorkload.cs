using System.Text;

namespace OrleansLlm.Cli.ServeBench;

/// <summary>One session of the multi-turn dataset: its system prompt and one user message per turn.</summary>
internal sealed record BenchSession(int Index, string SystemPrompt, string[] UserMessages);

/// <summary>
/// Seeded random text. Every session has its own system prompt (random words), so sessions share no
/// prefix beyond the chat template's first tokens; a run tag at the very start of each prompt keeps
/// two runs of the same workload (one per routing policy) from hitting each other's cache.
/// </summary>
internal sealed class ServeBenchWorkload(int seed, double tokensPerWord)
{
    private static readonly string[] s_words =
    [
        "time", "year", "people", "way", "day", "man", "thing", "woman", "life", "child", "world", "school", "state", "family",
        "student", "group", "country", "problem", "hand", "part", "place", "case", "week", "company", "system", "program",
        "question", "work", "government", "number", "night", "point", "home", "water", "room", "mother", "area", "money",
        "story", "fact", "month", "lot", "right", "study", "book", "eye", "job", "word", "business", "issue", "side", "kind",
        "head", "house", "service", "friend", "father", "power", "hour", "game", "line", "end", "member", "law", "car", "city",
        "community", "name", "president", "team", "minute", "idea", "kid", "body", "information", "back", "parent", "face",
        "others", "level", "office", "door", "health", "person", "art", "war", "history", "party", "result", "change",
        "morning", "reason", "research", "girl", "guy", "moment", "air", "teacher", "force", "education", "good", "new",
        "first", "last", "long", "great", "little", "own", "other", "old", "big", "high", "different", "small", "large",
        "next", "early", "young", "important", "few", "public", "bad", "same", "able", "be", "have", "do", "say", "go", "get",
        "make", "know", "think", "take", "see", "come", "want", "look", "use", "find", "give", "tell", "ask", "seem", "feel",
        "try", "leave", "call", "keep", "let", "begin", "help", "talk", "turn", "start", "show", "hear", "play", "run", "move",
        "like", "live", "believe", "hold", "bring", "happen", "write", "provide", "sit", "stand", "lose", "pay", "meet",
        "include", "continue", "set", "learn", "lead", "understand", "watch", "follow", "stop", "create", "speak", "read",
        "allow", "add", "spend", "grow", "open", "walk", "win", "offer", "remember", "love", "consider", "appear", "buy",
        "wait", "serve", "die", "send", "expect", "build", "stay", "fall", "cut", "reach", "kill", "remain", "river", "stone",
        "garden", "winter", "summer", "bridge", "music", "paper", "table", "window", "market", "letter", "forest", "island",
    ];

    public int Seed => seed;

    public double TokensPerWord => tokensPerWord;

    /// <summary>About <paramref name="tokens"/> tokens of random words from <paramref name="random"/>.</summary>
    public string Words(Random random, int tokens)
    {
        var count = Math.Max(1, (int)Math.Round(tokens / tokensPerWord));
        var text = new StringBuilder(count * 7);
        for (var i = 0; i < count; i++)
        {
            if (i > 0)
            {
                text.Append(i % 12 == 0 ? ". " : " ");
            }
            text.Append(s_words[random.Next(s_words.Length)]);
        }
        return text.Append('.').ToString();
    }

    /// <summary>The multi-turn sessions: the same words for the same seed, whatever the run tag.</summary>
    public BenchSession[] Sessions(int sessions, int turns, int systemTokens, int userTokens, string runTag) =>
        Enumerable.Range(0, sessions).Select(i =>
        {
            var random = new Random(unchecked(seed * 1_000_003 + i * 7919 + 1));
            var system = $"[{runTag}] You are assistant {i}. " + Words(random, systemTokens);
            var users = Enumerable.Range(0, turns).Select(_ => Words(random, userTokens)).ToArray();
            return new BenchSession(i, system, users);
        }).ToArray();

    /// <summary>The random dataset: independent single-message prompts.</summary>
    public string[] Prompts(int count, int tokens, string runTag) =>
        Enumerable.Range(0, count).Select(i =>
        {
            var random = new Random(unchecked(seed * 1_000_003 + i * 7919 + 2));
            return $"[{runTag}] Request {i}. " + Words(random, tokens);
        }).ToArray();
}
