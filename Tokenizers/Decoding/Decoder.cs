using System.Text;
using System.Text.Json;
using OrleansLlm.Tokenizers.Models;

namespace OrleansLlm.Tokenizers.Decoding;

/// <summary>Turns token strings back into text (tokenizer.json "decoder"), stage by stage.</summary>
internal abstract class Decoder
{
    /// <summary>Transforms the token strings; the result's concatenation is the decoded text.</summary>
    public abstract List<string> DecodeChain(List<string> tokens);

    public static Decoder? Create(JsonElement config, IReadOnlySet<string> addedTokenContents)
    {
        if (config.IsNullOrMissing())
        {
            return null;
        }
        string type = config.Type("decoder");
        return type switch
        {
            "ByteLevel" => new ByteLevelDecoder(addedTokenContents),
            "Metaspace" => new MetaspaceDecoder(config.OptionalString("replacement") ?? "\u2581"),
            "ByteFallback" => new ByteFallbackDecoder(),
            "Fuse" => new FuseDecoder(),
            "Strip" => new StripDecoder(StripChar(config), config.OptionalInt("start", 0), config.OptionalInt("stop", 0)),
            "Replace" => new ReplaceDecoder(TextReplacer.Create(config, "Replace decoder")),
            "Sequence" => new SequenceDecoder(
                config.Property("decoders").EnumerateArray().Select(d => Create(d, addedTokenContents)).OfType<Decoder>().ToArray()),
            _ => throw new TokenizerException($"Unsupported decoder type \"{type}\""),
        };
    }

    private static char StripChar(JsonElement config)
    {
        string content = config.OptionalString("content") ?? " ";
        return content.Length == 1
            ? content[0]
            : throw new TokenizerException($"Unsupported Strip decoder content \"{content}\" (one character expected)");
    }

    /// <summary>UTF-8 decoding with U+FFFD for each maximal invalid subpart, like the WHATWG TextDecoder.</summary>
    public static string DecodeUtf8(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);

    /// <summary>Byte of a "&lt;0xXX&gt;" byte-fallback token, or -1.</summary>
    public static int ParseByteToken(string token)
    {
        if (token.Length != 6 || !token.StartsWith("<0x", StringComparison.Ordinal) || token[5] != '>')
        {
            return -1;
        }
        int hi = HexValue(token[3]);
        int lo = HexValue(token[4]);
        return hi < 0 || lo < 0 ? -1 : (hi << 4) | lo;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}

internal sealed class ByteLevelDecoder(IReadOnlySet<string> addedTokenContents) : Decoder
{
    public IReadOnlySet<string> AddedTokenContents => addedTokenContents;

    public override List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>();
        var bytes = new List<byte>();
        foreach (string token in tokens)
        {
            if (addedTokenContents.Contains(token))
            {
                Flush(bytes, result);
                result.Add(token);
                continue;
            }
            AppendBytes(token, bytes);
        }
        Flush(bytes, result);
        return result;
    }

    /// <summary>The bytes a byte-level token stands for (characters outside the alphabet read as 0, as in the reference).</summary>
    public static void AppendBytes(string token, List<byte> bytes)
    {
        foreach (char c in token)
        {
            int b = c < ByteLevelAlphabet.CharToByte.Length ? ByteLevelAlphabet.CharToByte[c] : -1;
            bytes.Add(b < 0 ? (byte)0 : (byte)b);
        }
    }

    private static void Flush(List<byte> bytes, List<string> result)
    {
        if (bytes.Count > 0)
        {
            result.Add(DecodeUtf8(bytes.ToArray()));
            bytes.Clear();
        }
    }
}

internal sealed class MetaspaceDecoder(string replacement) : Decoder
{
    public string Replacement => replacement;

    public override List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        for (int i = 0; i < tokens.Count; i++)
        {
            string text = tokens[i].Replace(replacement, " ", StringComparison.Ordinal);
            result.Add(i == 0 && text.StartsWith(' ') ? text[1..] : text);
        }
        return result;
    }
}

internal sealed class ByteFallbackDecoder : Decoder
{
    public override List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        var bytes = new List<byte>();
        foreach (string token in tokens)
        {
            int b = ParseByteToken(token);
            if (b >= 0)
            {
                bytes.Add((byte)b);
                continue;
            }
            if (bytes.Count > 0)
            {
                result.Add(DecodeUtf8(bytes.ToArray()));
                bytes.Clear();
            }
            result.Add(token);
        }
        if (bytes.Count > 0)
        {
            result.Add(DecodeUtf8(bytes.ToArray()));
        }
        return result;
    }
}

internal sealed class FuseDecoder : Decoder
{
    public override List<string> DecodeChain(List<string> tokens) => [string.Concat(tokens)];
}

internal sealed class StripDecoder(char content, int start, int stop) : Decoder
{
    public char Content => content;

    public int Start => start;

    public int Stop => stop;

    public override List<string> DecodeChain(List<string> tokens)
    {
        var result = new List<string>(tokens.Count);
        foreach (string token in tokens)
        {
            int from = 0;
            while (from < start && from < token.Length && token[from] == content)
            {
                from++;
            }
            int to = token.Length;
            for (int i = 0; i < stop && to > from && token[to - 1] == content; i++)
            {
                to--;
            }
            result.Add(token[from..to]);
        }
        return result;
    }
}

internal sealed class ReplaceDecoder(TextReplacer replacer) : Decoder
{
    public TextReplacer Replacer => replacer;

    public override List<string> DecodeChain(List<string> tokens) => tokens.Select(replacer.Replace).ToList();
}

internal sealed class SequenceDecoder(Decoder[] stages) : Decoder
{
    public IReadOnlyList<Decoder> Stages => stages;

    public override List<string> DecodeChain(List<string> tokens)
    {
        foreach (var stage in stages)
        {
            tokens = stage.DecodeChain(tokens);
        }
        return tokens;
    }
}
