namespace OrleansLlm.Tokenizers;

/// <summary>A slice of a string that the pipeline passes between stages without copying it.</summary>
internal readonly record struct Piece(string Text, int Start, int Length)
{
    public ReadOnlySpan<char> Span => Text.AsSpan(Start, Length);

    public static Piece Of(string text) => new(text, 0, text.Length);

    public Piece Slice(int offset, int length) => new(Text, Start + offset, length);

    public override string ToString() => Text.Substring(Start, Length);
}
