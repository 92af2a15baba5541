using OrleansLlm.Tokenizers.Models;

namespace OrleansLlm.Tokenizers.Decoding;

/// <summary>
/// The decoder chain compiled to one entry per token id, for the chains LLM tokenizers use:
/// ByteLevel, Metaspace, or [Replace(literal)] [ByteFallback] [Fuse] [Strip(start, stop 0)].
/// A token is either UTF-8 bytes that join the byte stream, or text that first flushes the
/// stream (an incomplete sequence before it becomes U+FFFD, as in the reference decoders).
/// Decoding is then a byte copy per token, and streaming needs no re-decoding.
/// </summary>
internal sealed class TokenPieceTable
{
    private readonly byte[]?[] _bytes;   // [id] → bytes, when the token joins the byte stream
    private readonly string?[] _texts;   // [id] → text, otherwise

    private TokenPieceTable(int count)
    {
        _bytes = new byte[]?[count];
        _texts = new string?[count];
    }

    /// <summary>How many leading <see cref="StripChar"/> the whole text loses (Strip after Fuse).</summary>
    public int StripCount { get; private set; }

    public char StripChar { get; private set; } = ' ';

    /// <summary>Metaspace: the first token drops one leading space.</summary>
    public bool FirstTokenDropsSpace { get; private set; }

    public byte[]? Bytes(int id) => _bytes[id];

    public string Text(int id) => _texts[id] ?? "";

    /// <summary>Compiles the chain, or returns null when it is not one of the supported shapes.</summary>
    public static TokenPieceTable? TryCreate(Decoder? decoder, string?[] tokens, string fallbackToken)
    {
        var stages = decoder switch
        {
            null => null,
            SequenceDecoder sequence => sequence.Stages.ToList(),
            _ => new List<Decoder> { decoder },
        };
        if (stages is null || stages.Count == 0)
        {
            return null;
        }
        var table = new TokenPieceTable(tokens.Length);
        if (stages is [ByteLevelDecoder byteLevel])
        {
            for (int id = 0; id < tokens.Length; id++)
            {
                string token = tokens[id] ?? fallbackToken;
                if (byteLevel.AddedTokenContents.Contains(token))
                {
                    table._texts[id] = token;
                }
                else
                {
                    var bytes = new List<byte>(token.Length);
                    ByteLevelDecoder.AppendBytes(token, bytes);
                    table._bytes[id] = bytes.ToArray();
                }
            }
            return table;
        }
        if (stages is [MetaspaceDecoder metaspace])
        {
            for (int id = 0; id < tokens.Length; id++)
            {
                table._texts[id] = (tokens[id] ?? fallbackToken).Replace(metaspace.Replacement, " ", StringComparison.Ordinal);
            }
            table.FirstTokenDropsSpace = true;
            return table;
        }
        return TryCompileSentencePieceChain(stages, tokens, fallbackToken, table);
    }

    private static TokenPieceTable? TryCompileSentencePieceChain(List<Decoder> stages, string?[] tokens, string fallbackToken, TokenPieceTable table)
    {
        int at = 0;
        TextReplacer? replacer = null;
        bool byteFallback = false;
        if (at < stages.Count && stages[at] is ReplaceDecoder { Replacer.Literal: not null } replace)
        {
            replacer = replace.Replacer;
            at++;
        }
        if (at < stages.Count && stages[at] is ByteFallbackDecoder)
        {
            byteFallback = true;
            at++;
        }
        if (at < stages.Count && stages[at] is FuseDecoder)
        {
            at++;
            if (at < stages.Count && stages[at] is StripDecoder { Stop: 0 } strip)
            {
                table.StripCount = strip.Start;
                table.StripChar = strip.Content;
                at++;
            }
        }
        if (at != stages.Count)
        {
            return null;
        }
        for (int id = 0; id < tokens.Length; id++)
        {
            string token = tokens[id] ?? fallbackToken;
            string text = replacer is null ? token : replacer.Replace(token);
            int b = byteFallback ? Decoder.ParseByteToken(text) : -1;
            if (b >= 0)
            {
                table._bytes[id] = [(byte)b];
            }
            else
            {
                table._texts[id] = text;
            }
        }
        return table;
    }
}
