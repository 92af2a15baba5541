using System.Text;
using OrleansLlm.Tokenizers.Decoding;

namespace OrleansLlm.Tokenizers;

/// <summary>
/// Streaming decoder for one generated sequence. <see cref="Add"/> returns only text that is
/// valid UTF-8 and cannot change: bytes of a character split across tokens wait for the rest,
/// and SentencePiece's leading-space strip is applied once. The concatenation of everything
/// <see cref="Add"/> and <see cref="Flush"/> return equals
/// <c>Decode(ids, skipSpecialTokens, cleanUpTokenizationSpaces: false)</c>. Not thread-safe.
/// </summary>
public sealed class IncrementalDetokenizer
{
    private readonly HfTokenizer _tokenizer;
    private readonly TokenPieceTable? _pieces;
    private readonly bool _skipSpecialTokens;
    private readonly System.Text.Decoder _utf8 = new UTF8Encoding(false, false).GetDecoder();
    private readonly StringBuilder _pending = new();
    private char[] _chars = new char[64];
    private int _stripRemaining;
    private bool _firstToken = true;

    // Fallback for decoder chains without a piece table: re-decode everything (O(n) per token).
    private readonly List<int>? _ids;
    private int _emittedLength;

    internal IncrementalDetokenizer(HfTokenizer tokenizer, TokenPieceTable? pieces, bool skipSpecialTokens)
    {
        _tokenizer = tokenizer;
        _pieces = pieces;
        _skipSpecialTokens = skipSpecialTokens;
        _stripRemaining = pieces?.StripCount ?? 0;
        _ids = pieces is null ? new List<int>() : null;
    }

    /// <summary>Feeds one id; returns the text that became stable (often empty).</summary>
    public string Add(int id)
    {
        _pending.Clear();
        AddTo(id, _pending);
        return _pending.Length == 0 ? "" : _pending.ToString();
    }

    /// <summary>Feeds one id and appends the text that became stable to <paramref name="output"/>; returns the number of chars appended.</summary>
    public int AddTo(int id, StringBuilder output)
    {
        _tokenizer.CheckId(id);
        int before = output.Length;
        if (_pieces is null)
        {
            AddByRedecoding(id, output);
            return output.Length - before;
        }
        if (_skipSpecialTokens && _tokenizer.IsSpecial(id))
        {
            return 0;
        }
        var bytes = _pieces.Bytes(id);
        if (bytes is not null)
        {
            AppendDecoded(bytes, flush: false, output);
        }
        else
        {
            AppendDecoded([], flush: true, output);
            string text = _pieces.Text(id);
            AppendStripped(_firstToken && _pieces.FirstTokenDropsSpace && text.StartsWith(' ') ? text.AsSpan(1) : text, output);
        }
        _firstToken = false;
        return output.Length - before;
    }

    /// <summary>Ends the sequence: returns what was held back (incomplete UTF-8 becomes U+FFFD, as in a full decode).</summary>
    public string Flush()
    {
        var output = new StringBuilder();
        if (_pieces is null)
        {
            string full = _tokenizer.Decode(_ids!.ToArray(), _skipSpecialTokens, cleanUpTokenizationSpaces: false);
            if (full.Length > _emittedLength)
            {
                output.Append(full, _emittedLength, full.Length - _emittedLength);
                _emittedLength = full.Length;
            }
        }
        else
        {
            AppendDecoded([], flush: true, output);
        }
        return output.ToString();
    }

    private void AppendDecoded(ReadOnlySpan<byte> bytes, bool flush, StringBuilder output)
    {
        int needed = _utf8.GetCharCount(bytes, flush: false) + 4;
        if (needed > _chars.Length)
        {
            _chars = new char[Math.Max(needed, _chars.Length * 2)];
        }
        int count = _utf8.GetChars(bytes, _chars, flush);
        if (count > 0)
        {
            AppendStripped(_chars.AsSpan(0, count), output);
        }
    }

    private void AppendStripped(ReadOnlySpan<char> text, StringBuilder output)
    {
        while (_stripRemaining > 0 && !text.IsEmpty)
        {
            if (text[0] != _pieces!.StripChar)
            {
                _stripRemaining = 0;
                break;
            }
            text = text[1..];
            _stripRemaining--;
        }
        output.Append(text);
    }

    private void AddByRedecoding(int id, StringBuilder output)
    {
        _ids!.Add(id);
        string full = _tokenizer.Decode(_ids.ToArray(), _skipSpecialTokens, cleanUpTokenizationSpaces: false);
        if (full.Length > _emittedLength && !full.EndsWith('\uFFFD'))
        {
            output.Append(full, _emittedLength, full.Length - _emittedLength);
            _emittedLength = full.Length;
        }
    }
}
