using System.Text.Json;

namespace OrleansLlm.Tokenizers.PostProcessing;

/// <summary>Adds the special tokens around an encoded sequence (tokenizer.json "post_processor").</summary>
internal abstract class PostProcessor
{
    /// <summary>Ids to put before and after a single sequence when special tokens are added.</summary>
    public abstract (int[] Prefix, int[] Suffix) SingleSequenceAffixes { get; }

    public static PostProcessor? Create(JsonElement config)
    {
        if (config.IsNullOrMissing())
        {
            return null;
        }
        string type = config.Type("post_processor");
        return type switch
        {
            "ByteLevel" => new AffixPostProcessor([], []),
            "TemplateProcessing" => TemplateProcessing(config),
            "BertProcessing" or "RobertaProcessing" => new AffixPostProcessor(
                [config.Property("cls")[1].GetInt32()], [config.Property("sep")[1].GetInt32()]),
            "Sequence" => Sequence(config.Property("processors").EnumerateArray().Select(Create).OfType<PostProcessor>()),
            _ => throw new TokenizerException($"Unsupported post_processor type \"{type}\""),
        };
    }

    private static AffixPostProcessor TemplateProcessing(JsonElement config)
    {
        var specialTokens = config.Property("special_tokens");
        var prefix = new List<int>();
        var suffix = new List<int>();
        bool seenSequence = false;
        foreach (var item in config.Property("single").EnumerateArray())
        {
            if (item.TryGetProperty("Sequence", out _))
            {
                if (seenSequence)
                {
                    throw new TokenizerException("Unsupported TemplateProcessing: the single template repeats its sequence");
                }
                seenSequence = true;
                continue;
            }
            if (!item.TryGetProperty("SpecialToken", out var special))
            {
                throw new TokenizerException($"Unsupported TemplateProcessing item {item.GetRawText()}");
            }
            string name = special.RequiredString("id", "TemplateProcessing special token");
            var entry = specialTokens.Property(name);
            if (entry.ValueKind != JsonValueKind.Object)
            {
                throw new TokenizerException($"TemplateProcessing names special token \"{name}\" that its special_tokens lacks");
            }
            var ids = entry.Property("ids").EnumerateArray().Select(x => x.GetInt32());
            (seenSequence ? suffix : prefix).AddRange(ids);
        }
        return new AffixPostProcessor(prefix.ToArray(), suffix.ToArray());
    }

    private static AffixPostProcessor Sequence(IEnumerable<PostProcessor> processors)
    {
        var prefix = new List<int>();
        var suffix = new List<int>();
        foreach (var processor in processors)
        {
            var (p, s) = processor.SingleSequenceAffixes;
            prefix.InsertRange(0, p);
            suffix.AddRange(s);
        }
        return new AffixPostProcessor(prefix.ToArray(), suffix.ToArray());
    }
}

internal sealed class AffixPostProcessor(int[] prefix, int[] suffix) : PostProcessor
{
    public override (int[] Prefix, int[] Suffix) SingleSequenceAffixes => (prefix, suffix);
}
