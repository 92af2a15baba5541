using System.Text;
using System.Text.Json;

namespace OrleansLlm.Tokenizers.Normalization;

/// <summary>Rewrites a section of input text before pre-tokenization (tokenizer.json "normalizer").</summary>
internal abstract class Normalizer
{
    public abstract string Normalize(string text);

    public static Normalizer? Create(JsonElement config)
    {
        if (config.IsNullOrMissing())
        {
            return null;
        }
        string type = config.Type("normalizer");
        return type switch
        {
            "NFC" => new UnicodeNormalizer(NormalizationForm.FormC),
            "NFD" => new UnicodeNormalizer(NormalizationForm.FormD),
            "NFKC" => new UnicodeNormalizer(NormalizationForm.FormKC),
            "NFKD" => new UnicodeNormalizer(NormalizationForm.FormKD),
            "Prepend" => new PrependNormalizer(config.RequiredString("prepend", "Prepend normalizer")),
            "Replace" => new ReplaceNormalizer(TextReplacer.Create(config, "Replace normalizer")),
            "Lowercase" => new LowercaseNormalizer(),
            "Strip" => new StripNormalizer(config.OptionalBool("strip_left", true), config.OptionalBool("strip_right", true)),
            "Sequence" => new SequenceNormalizer(
                config.Property("normalizers").EnumerateArray().Select(Create).OfType<Normalizer>().ToArray()),
            _ => throw new TokenizerException($"Unsupported normalizer type \"{type}\""),
        };
    }
}

internal sealed class UnicodeNormalizer(NormalizationForm form) : Normalizer
{
    public override string Normalize(string text) => text.IsNormalized(form) ? text : text.Normalize(form);
}

internal sealed class PrependNormalizer(string prefix) : Normalizer
{
    public override string Normalize(string text) => prefix + text;
}

internal sealed class ReplaceNormalizer(TextReplacer replacer) : Normalizer
{
    public override string Normalize(string text) => replacer.Replace(text);
}

internal sealed class LowercaseNormalizer : Normalizer
{
    public override string Normalize(string text) => text.ToLowerInvariant();
}

internal sealed class StripNormalizer(bool left, bool right) : Normalizer
{
    public override string Normalize(string text) => (left, right) switch
    {
        (true, true) => CharClass.JsTrim(text),
        (true, false) => CharClass.JsTrimStart(text),
        (false, true) => CharClass.JsTrimEnd(text),
        _ => text,
    };
}

internal sealed class SequenceNormalizer(Normalizer[] normalizers) : Normalizer
{
    public override string Normalize(string text)
    {
        foreach (var normalizer in normalizers)
        {
            text = normalizer.Normalize(text);
        }
        return text;
    }
}
