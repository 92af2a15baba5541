using System.Linq.Expressions;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace OrleansLlm.Runtime;

internal enum GrainMethodKind
{
    Task,
    TaskOfResult,
    Stream,
}

/// <summary>
/// Metadata of one grain interface method, built once at registration: the JSON type information
/// of its parameters and result, and a compiled delegate that calls the method on a grain. The hot
/// path uses only these cached objects, never reflection.
/// </summary>
internal abstract class GrainMethod(string name, Func<object, object?[], CancellationToken, object> invoker, JsonTypeInfo[] parameterTypes, bool alwaysInterleave)
{
    /// <summary>(grain, arguments without the cancellation token, token) → the method's Task or IAsyncEnumerable.</summary>
    public Func<object, object?[], CancellationToken, object> Invoker { get; } = invoker;

    /// <summary><c>Interface.Method</c>.</summary>
    public string Name { get; } = name;

    public JsonTypeInfo[] ParameterTypes { get; } = parameterTypes;

    public bool AlwaysInterleave { get; } = alwaysInterleave;

    public abstract GrainMethodKind Kind { get; }

    /// <summary>Writes the result of a completed call (nothing for <c>Task</c>).</summary>
    public virtual void WriteResult(Utf8JsonWriter writer, object completedTask)
    {
    }

    /// <summary>Serves a streaming call over HTTP (streaming methods only).</summary>
    public virtual Task ServeStreamAsync(ActivationCatalog catalog, GrainId grainId, GrainInterfaceInfo info, object?[] arguments,
        Microsoft.AspNetCore.Http.HttpContext context, CancellationToken cancellationToken) =>
        throw new InvalidOperationException($"{Name} is not a streaming method");

    public void WriteArguments(Utf8JsonWriter writer, object?[] arguments)
    {
        CheckArgumentCount(arguments);
        writer.WriteStartArray();
        for (var i = 0; i < arguments.Length; i++)
        {
            JsonSerializer.Serialize(writer, arguments[i], ParameterTypes[i]);
        }
        writer.WriteEndArray();
    }

    public object?[] ReadArguments(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException($"arguments of {Name} must be a JSON array");
        }
        var arguments = new object?[ParameterTypes.Length];
        for (var i = 0; i < arguments.Length; i++)
        {
            if (!reader.Read() || reader.TokenType == JsonTokenType.EndArray)
            {
                throw new JsonException($"{Name} takes {ParameterTypes.Length} arguments, got {i}");
            }
            arguments[i] = JsonSerializer.Deserialize(ref reader, ParameterTypes[i]);
        }
        if (!reader.Read() || reader.TokenType != JsonTokenType.EndArray)
        {
            throw new JsonException($"{Name} takes {ParameterTypes.Length} arguments, got more");
        }
        return arguments;
    }

    public void CheckArgumentCount(object?[] arguments)
    {
        if (arguments.Length != ParameterTypes.Length)
        {
            throw new ArgumentException($"{Name} takes {ParameterTypes.Length} arguments (besides a CancellationToken), got {arguments.Length}");
        }
    }

    public static GrainMethod Create(Type interfaceType, MethodInfo method, JsonSerializerOptions json)
    {
        var name = $"{interfaceType.Name}.{method.Name}";
        if (method.IsGenericMethodDefinition)
        {
            throw new ArgumentException($"grain method {name} must not be generic");
        }
        var parameters = method.GetParameters();
        var tokenIndex = -1;
        var types = new List<JsonTypeInfo>();
        for (var i = 0; i < parameters.Length; i++)
        {
            var type = parameters[i].ParameterType;
            if (type.IsByRef)
            {
                throw new ArgumentException($"grain method {name} must not have ref/out parameters");
            }
            if (type == typeof(CancellationToken))
            {
                if (tokenIndex >= 0)
                {
                    throw new ArgumentException($"grain method {name} has more than one CancellationToken");
                }
                tokenIndex = i;
                continue;
            }
            types.Add(ResolveType(json, type, name));
        }
        var invoker = CompileInvoker(interfaceType, method, parameters, tokenIndex);
        var interleave = method.GetCustomAttribute<AlwaysInterleaveAttribute>() is not null;
        object[] common = [name, invoker, types.ToArray(), interleave];
        var returnType = method.ReturnType;
        if (returnType == typeof(Task))
        {
            return new TaskMethod(name, invoker, [.. types], interleave);
        }
        if (returnType.IsGenericType && returnType.GetGenericTypeDefinition() == typeof(Task<>))
        {
            var result = returnType.GetGenericArguments()[0];
            return (GrainMethod)Activator.CreateInstance(typeof(TaskMethod<>).MakeGenericType(result), [.. common, ResolveType(json, result, name)])!;
        }
        if (returnType.IsGenericType && returnType.GetGenericTypeDefinition() == typeof(IAsyncEnumerable<>))
        {
            var item = returnType.GetGenericArguments()[0];
            return (GrainMethod)Activator.CreateInstance(typeof(StreamMethod<>).MakeGenericType(item), [.. common, ResolveType(json, item, name)])!;
        }
        throw new ArgumentException($"grain method {name} must return Task, Task<T> or IAsyncEnumerable<T>, not {returnType.Name}");
    }

    private static JsonTypeInfo ResolveType(JsonSerializerOptions json, Type type, string method)
    {
        try
        {
            return json.GetTypeInfo(type);
        }
        catch (NotSupportedException e)
        {
            throw new ArgumentException($"grain method {method} uses {type.FullName}, which no registered JsonSerializerContext covers; add [JsonSerializable(typeof({type.Name}))] to a context and register it", e);
        }
    }

    private static Func<object, object?[], CancellationToken, object> CompileInvoker(Type interfaceType, MethodInfo method, ParameterInfo[] parameters, int tokenIndex)
    {
        var grain = Expression.Parameter(typeof(object), "grain");
        var arguments = Expression.Parameter(typeof(object?[]), "arguments");
        var token = Expression.Parameter(typeof(CancellationToken), "cancellationToken");
        var callArguments = new Expression[parameters.Length];
        var next = 0;
        for (var i = 0; i < parameters.Length; i++)
        {
            callArguments[i] = i == tokenIndex
                ? token
                : Expression.Convert(Expression.ArrayIndex(arguments, Expression.Constant(next++)), parameters[i].ParameterType);
        }
        var call = Expression.Call(Expression.Convert(grain, interfaceType), method, callArguments);
        var body = Expression.Convert(call, typeof(object));
        return Expression.Lambda<Func<object, object?[], CancellationToken, object>>(body, grain, arguments, token).Compile();
    }
}

internal sealed class TaskMethod(string name, Func<object, object?[], CancellationToken, object> invoker, JsonTypeInfo[] parameterTypes, bool alwaysInterleave)
    : GrainMethod(name, invoker, parameterTypes, alwaysInterleave)
{
    public override GrainMethodKind Kind => GrainMethodKind.Task;
}

/// <summary>A method returning <c>Task&lt;TResult&gt;</c>.</summary>
internal sealed class TaskMethod<TResult>(string name, Func<object, object?[], CancellationToken, object> invoker, JsonTypeInfo[] parameterTypes,
    bool alwaysInterleave, JsonTypeInfo resultType) : GrainMethod(name, invoker, parameterTypes, alwaysInterleave)
{
    public JsonTypeInfo<TResult> ResultType { get; } = (JsonTypeInfo<TResult>)resultType;

    public override GrainMethodKind Kind => GrainMethodKind.TaskOfResult;

    /// <summary>Writes the result of a completed <c>Task&lt;TResult&gt;</c>.</summary>
    public override void WriteResult(Utf8JsonWriter writer, object completedTask) =>
        JsonSerializer.Serialize(writer, ((Task<TResult>)completedTask).Result, ResultType);
}

/// <summary>A method returning <c>IAsyncEnumerable&lt;TItem&gt;</c>.</summary>
internal sealed class StreamMethod<TItem>(string name, Func<object, object?[], CancellationToken, object> invoker, JsonTypeInfo[] parameterTypes,
    bool alwaysInterleave, JsonTypeInfo itemType) : GrainMethod(name, invoker, parameterTypes, alwaysInterleave)
{
    public JsonTypeInfo<TItem> ItemType { get; } = (JsonTypeInfo<TItem>)itemType;

    public override GrainMethodKind Kind => GrainMethodKind.Stream;

    public override Task ServeStreamAsync(ActivationCatalog catalog, GrainId grainId, GrainInterfaceInfo info, object?[] arguments,
        Microsoft.AspNetCore.Http.HttpContext context, CancellationToken cancellationToken) =>
        StreamServer.ServeAsync(catalog, grainId, info, this, arguments, context, cancellationToken);
}
