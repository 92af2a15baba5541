using System.Text;

namespace OrleansLlm.Grains.Sessions;

/// <summary>
/// Applies stop strings to streamed text: text that could still be the start of a stop string is
/// held back; once one appears, everything from it on is dropped and <see cref="Stopped"/> is set.
/// </summary>
public sealed class StopStringFilter(IReadOnlyList<string> stops)
{
    private readonly StringBuilder _pending = new();

    public bool Stopped { get; private set; }

    /// <summary>Adds <paramref name="text"/>; returns what can be sent now.</summary>
    public string Push(string text)
    {
        if (Stopped)
        {
            return "";
        }
        if (stops.Count == 0)
        {
            return text;
        }
        _pending.Append(text);
        var buffered = _pending.ToString();
        var first = -1;
        foreach (var stop in stops)
        {
            var at = buffered.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (first < 0 || at < first))
            {
                first = at;
            }
        }
        if (first >= 0)
        {
            Stopped = true;
            _pending.Clear();
            return buffered[..first];
        }
        var hold = 0;
        foreach (var stop in stops)
        {
            for (var n = Math.Min(stop.Length - 1, buffered.Length); n > hold; n--)
            {
                if (buffered.AsSpan(buffered.Length - n).SequenceEqual(stop.AsSpan(0, n)))
                {
                    hold = n;
                    break;
                }
            }
        }
        _pending.Remove(0, buffered.Length - hold);
        return buffered[..^hold];
    }

    /// <summary>The held-back text, once the stream has ended without a stop string.</summary>
    public string Flush()
    {
        var rest = Stopped ? "" : _pending.ToString();
        _pending.Clear();
        return rest;
    }
}
