namespace OrleansLlm.Gguf;

/// <summary>
/// One metadata value: a scalar (boxed .NET value of the matching type: byte, sbyte, ushort, short,
/// uint, int, float, bool, string, ulong, long, double) or an array of scalars (a .NET array of
/// that element type, e.g. string[] for an array of strings).
/// </summary>
public sealed record GgufValue
{
    private GgufValue(GgufValueType type, GgufValueType elementType, object value)
    {
        Type = type;
        ElementType = elementType;
        Value = value;
    }

    public GgufValueType Type { get; }

    /// <summary>The element type of an array; equal to <see cref="Type"/> for a scalar.</summary>
    public GgufValueType ElementType { get; }

    public object Value { get; }

    public static GgufValue Of(byte value) => new(GgufValueType.UInt8, GgufValueType.UInt8, value);
    public static GgufValue Of(sbyte value) => new(GgufValueType.Int8, GgufValueType.Int8, value);
    public static GgufValue Of(ushort value) => new(GgufValueType.UInt16, GgufValueType.UInt16, value);
    public static GgufValue Of(short value) => new(GgufValueType.Int16, GgufValueType.Int16, value);
    public static GgufValue Of(uint value) => new(GgufValueType.UInt32, GgufValueType.UInt32, value);
    public static GgufValue Of(int value) => new(GgufValueType.Int32, GgufValueType.Int32, value);
    public static GgufValue Of(float value) => new(GgufValueType.Float32, GgufValueType.Float32, value);
    public static GgufValue Of(bool value) => new(GgufValueType.Bool, GgufValueType.Bool, value);
    public static GgufValue Of(string value) => new(GgufValueType.String, GgufValueType.String, value);
    public static GgufValue Of(ulong value) => new(GgufValueType.UInt64, GgufValueType.UInt64, value);
    public static GgufValue Of(long value) => new(GgufValueType.Int64, GgufValueType.Int64, value);
    public static GgufValue Of(double value) => new(GgufValueType.Float64, GgufValueType.Float64, value);

    /// <summary>An array value; <typeparamref name="T"/> must be one of the scalar .NET types.</summary>
    public static GgufValue Array<T>(T[] values) => new(GgufValueType.Array, ElementTypeOf(typeof(T)), values);

    public bool IsArray => Type == GgufValueType.Array;

    /// <summary>The number of elements of an array; 1 for a scalar.</summary>
    public int Count => Value is System.Array array ? array.Length : 1;

    /// <summary>The .NET type of a scalar of <paramref name="type"/>.</summary>
    internal static Type ClrType(GgufValueType type) => type switch
    {
        GgufValueType.UInt8 => typeof(byte),
        GgufValueType.Int8 => typeof(sbyte),
        GgufValueType.UInt16 => typeof(ushort),
        GgufValueType.Int16 => typeof(short),
        GgufValueType.UInt32 => typeof(uint),
        GgufValueType.Int32 => typeof(int),
        GgufValueType.Float32 => typeof(float),
        GgufValueType.Bool => typeof(bool),
        GgufValueType.String => typeof(string),
        GgufValueType.UInt64 => typeof(ulong),
        GgufValueType.Int64 => typeof(long),
        GgufValueType.Float64 => typeof(double),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a scalar type"),
    };

    internal static GgufValue Scalar(GgufValueType type, object value) => new(type, type, value);

    internal static GgufValue ArrayOf(GgufValueType elementType, System.Array values) => new(GgufValueType.Array, elementType, values);

    private static GgufValueType ElementTypeOf(Type type)
    {
        for (var candidate = GgufValueType.UInt8; candidate <= GgufValueType.Float64; candidate++)
        {
            if (candidate != GgufValueType.Array && ClrType(candidate) == type)
            {
                return candidate;
            }
        }
        throw new ArgumentException($"{type.Name} is not a GGUF scalar type", nameof(type));
    }

    public override string ToString() => Value is System.Array array ? $"{ElementType}[{array.Length}]" : $"{Value}";
}
