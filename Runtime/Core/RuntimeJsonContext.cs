using System.Text.Json.Serialization;

namespace OrleansLlm.Runtime;

/// <summary>JSON metadata for the runtime's own messages and for common primitive payloads.</summary>
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(double))]
[JsonSerializable(typeof(float))]
[JsonSerializable(typeof(Guid))]
[JsonSerializable(typeof(DateTimeOffset))]
[JsonSerializable(typeof(byte[]))]
[JsonSerializable(typeof(int[]))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(RemoteError))]
internal sealed partial class RuntimeJsonContext : JsonSerializerContext;

/// <summary>An exception as it travels between silos.</summary>
internal sealed record RemoteError(string Type, string Message, string? StackTrace);
