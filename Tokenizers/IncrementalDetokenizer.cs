using System.Text;
using OrleansLlm.Tokenizers.Decoding;

namespace OrleansLlm.Tokenizers;

/// <summary>
/// Streaming decoder for one generated sequence. <see cref="Add"/> returns only text that is
/// valid UTF-8 and cannot change: bytes of a character split across tokens wait for the rest,
/// SentencePiece's leading-space strip is applied once, and text that the tokenization-space
/// clean-up might still rewrite (" ." → ".") waits for the next character. The concatenation of
/// everything <see cref="Add"/> and <see cref="Flush"/> return equals
/// <c>Decode(ids, skipSpecialTokens, cleanUpTokenizationSpaces)</c>. Not thread-safe.
/// </summary>
public sealed class IncrementalDetokenizer
{
    private readonly HfTokenizer _tokenizer;
    private readonly TokenPieceTable? _pieces;
    private readonly bool _skipSpecialTokens;
    private readonly CleanUpStream? _cleanUp;
    private readonly System.Text.Decoder _utf8 = new UTF8Encoding(false, false).GetDecoder();
    private readonly StringBuilder _pending = new();
    private char[] _chars = new char[64];
    private int _stripRemaining;
    private bool _firstToken = true;

    // Fallback for decoder chains without a piece table: re-decode everything (O(n) per token).
    private readonly List<int>? _ids;
    private int _emittedLength;

    internal IncrementalDetokenizer(HfTokenizer tokenizer, TokenPieceTable? pieces, bool skipSpecialTokens, bool cleanUpTokenizationSpaces)
    {
        _tokenizer = tokenizer;
        _cleanUp = cleanUpTokenizationSpaces ? new CleanUpStream() : null;
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
                Emit(full.AsSpan(_emittedLength), output);
                _emittedLength = full.Length;
            }
        }
        else
        {
            AppendDecoded([], flush: true, output);
        }
        _cleanUp?.Flush(output);
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
        Emit(text, output);
    }

    private void Emit(ReadOnlySpan<char> text, StringBuilder output)
    {
        if (_cleanUp is null)
        {
            output.Append(text);
        }
        else
        {
            _cleanUp.Append(text, output);
        }
    }

    private void AddByRedecoding(int id, StringBuilder output)
    {
        _ids!.Add(id);
        string full = _tokenizer.Decode(_ids.ToArray(), _skipSpecialTokens, cleanUpTokenizationSpaces: false);
        if (full.Length > _emittedLength && !full.EndsWith('\uFFFD'))
        {
            Emit(full.AsSpan(_emittedLength), output);
            _emittedLength = full.Length;
        }
    }
}

/// <summary>
/// The tokenization-space clean-up applied to a stream. Every clean-up pattern (" .", " n't",
/// " ' ", ...) starts with a space and is made only of spaces, punctuation and the letters
/// n t m s v e r ("pattern characters"); the passes only delete spaces. So a match, in any pass,
/// starts at a space and stays inside one run of pattern characters: everything before the first
/// space of the trailing run cleans up on its own and is emitted; only that tail waits.
/// </summary>
internal sealed class CleanUpStream
{
    private readonly StringBuilder _pending = new();

    public void Append(ReadOnlySpan<char> text, StringBuilder output)
    {
        _pending.Append(text);
        int runStart = _pending.Length;
        while (runStart > 0 && IsPatternChar(_pending[runStart - 1]))
        {
            runStart--;
        }
        int cut = _pending.Length;
        for (int i = runStart; i < _pending.Length; i++)
        {
            if (_pending[i] == ' ')
            {
                cut = i;
                break;
            }
        }
        if (cut > 0 && char.IsHighSurrogate(_pending[cut - 1]))
        {
            cut--;
        }
        if (cut > 0)
        {
            EmitPending(cut, output);
        }
    }

    public void Flush(StringBuilder output)
    {
        if (_pending.Length > 0)
        {
            EmitPending(_pending.Length, output);
        }
    }

    private void EmitPending(int length, StringBuilder output)
    {
        string head = _pending.ToString(0, length);
        _pending.Remove(0, length);
        output.Append(head.Contains(' ') ? TokenizationSpaces.Apply(head) : head);
    }

    private static bool IsPatternChar(char c) =>
        c is ' ' or '.' or '?' or '!' or ',' or '\'' or 'n' or 't' or 'm' or 's' or 'v' or 'e' or 'r';
}
