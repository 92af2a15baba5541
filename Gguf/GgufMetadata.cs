using System.Diagnostics.CodeAnalysis;

namespace OrleansLlm.Gguf;

/// <summary>The key/value metadata of a GGUF file, in file order, with typed getters.</summary>
public sealed class GgufMetadata
{
    private readonly List<string> _keys = [];
    private readonly Dictionary<string, GgufValue> _values = new(StringComparer.Ordinal);

    public IReadOnlyList<string> Keys => _keys;

    public int Count => _keys.Count;

    public GgufValue this[string key] => _values.TryGetValue(key, out var value)
        ? value
        : throw new KeyNotFoundException($"GGUF metadata has no key \"{key}\"");

    /// <summary>Adds or replaces <paramref name="key"/> (a replaced key keeps its place).</summary>
    public void Set(string key, GgufValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (!_values.ContainsKey(key))
        {
            _keys.Add(key);
        }
        _values[key] = value;
    }

    public bool Remove(string key) => _values.Remove(key) && _keys.Remove(key);

    public bool Contains(string key) => _values.ContainsKey(key);

    public bool TryGet(string key, [NotNullWhen(true)] out GgufValue? value) => _values.TryGetValue(key, out value);

    /// <summary>A string value, or null when absent; a value of another type throws.</summary>
    public string? GetString(string key) => TryGet(key, out var value) ? Scalar<string>(key, value) : null;

    public bool? GetBool(string key) => TryGet(key, out var value) ? Scalar<bool>(key, value) : null;

    public float? GetFloat32(string key) => TryGet(key, out var value) ? (float)ToDouble(key, value) : null;

    /// <summary>An integer of any integer type (uint32 or int32 or ...), or null when absent.</summary>
    public long? GetInteger(string key) => TryGet(key, out var value) ? ToInt64(key, value) : null;

    /// <summary>An array of <typeparamref name="T"/>, or null when absent; another element type throws.</summary>
    public T[]? GetArray<T>(string key)
    {
        if (!TryGet(key, out var value))
        {
            return null;
        }
        return value.Value as T[]
            ?? throw new InvalidDataException($"GGUF key \"{key}\" is {Describe(value)}, not an array of {typeof(T).Name}");
    }

    private static T Scalar<T>(string key, GgufValue value) => value.Value is T typed && !value.IsArray
        ? typed
        : throw new InvalidDataException($"GGUF key \"{key}\" is {Describe(value)}, not {typeof(T).Name}");

    private static long ToInt64(string key, GgufValue value) => value.Value switch
    {
        byte v => v,
        sbyte v => v,
        ushort v => v,
        short v => v,
        uint v => v,
        int v => v,
        long v => v,
        ulong v when v <= long.MaxValue => (long)v,
        _ => throw new InvalidDataException($"GGUF key \"{key}\" is {Describe(value)}, not an integer"),
    };

    private static double ToDouble(string key, GgufValue value) => value.Value switch
    {
        float v => v,
        double v => v,
        _ => throw new InvalidDataException($"GGUF key \"{key}\" is {Describe(value)}, not a float"),
    };

    private static string Describe(GgufValue value) => value.IsArray ? $"an array of {value.ElementType}" : value.Type.ToString();
}
