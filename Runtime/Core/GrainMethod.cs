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
internal abstract class GrainMethod
{
    /// <summary>(grain, arguments without the cancellation token, token) → the method's Task or IAsyncEnumerable.</summary>
    public required Func<object, object?[], CancellationToken, object> Invoker { get; init; }

    public required string Name { get; init; }

    public required JsonTypeInfo[] ParameterTypes { get; init; }

    public required bool AlwaysInterleave { get; init; }

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
        var returnType = method.ReturnType;
        if (returnType == typeof(Task))
        {
            return new TaskMethod { Name = name, Invoker = invoker, ParameterTypes = [.. types], AlwaysInterleave = interleave };
        }
        if (returnType.IsGenericType && returnType.GetGenericTypeDefinition() == typeof(Task<>))
        {
            var result = returnType.GetGenericArguments()[0];
            var closed = typeof(TaskMethod<>).MakeGenericType(result);
            var created = (GrainMethod)Activator.CreateInstance(closed, ResolveType(json, result, name))!;
            return Init(created, name, invoker, types, interleave);
        }
        if (returnType.IsGenericType && returnType.GetGenericTypeDefinition() == typeof(IAsyncEnumerable<>))
        {
            var item = returnType.GetGenericArguments()[0];
            var closed = typeof(StreamMethod<>).MakeGenericType(item);
            var created = (GrainMethod)Activator.CreateInstance(closed, ResolveType(json, item, name))!;
            return Init(created, name, invoker, types, interleave);
        }
        throw new ArgumentException($"grain method {name} must return Task, Task<T> or IAsyncEnumerable<T>, not {returnType.Name}");
    }

    private static GrainMethod Init(GrainMethod created, string name, Func<object, object?[], CancellationToken, object> invoker, List<JsonTypeInfo> types, bool interleave)
    {
        // required members are set through a shallow copy: the generic subclasses are created by type
        return created.With(name, invoker, [.. types], interleave);
    }

    protected abstract GrainMethod With(string name, Func<object, object?[], CancellationToken, object> invoker, JsonTypeInfo[] types, bool interleave);

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

internal sealed class TaskMethod : GrainMethod
{
    public override GrainMethodKind Kind => GrainMethodKind.Task;

    protected override GrainMethod With(string name, Func<object, object?[], CancellationToken, object> invoker, JsonTypeInfo[] types, bool interleave) =>
        new TaskMethod { Name = name, Invoker = invoker, ParameterTypes = types, AlwaysInterleave = interleave };
}

/// <summary>A method returning <c>Task&lt;TResult&gt;</c>.</summary>
internal sealed class TaskMethod<TResult> : GrainMethod
{
    [System.Diagnostics.CodeAnalysis.SetsRequiredMembers]
    public TaskMethod(JsonTypeInfo resultType)
    {
        ResultType = (JsonTypeInfo<TResult>)resultType;
        Name = "";
        Invoker = static (_, _, _) => throw new InvalidOperationException();
        ParameterTypes = [];
    }

    public JsonTypeInfo<TResult> ResultType { get; }

    public override GrainMethodKind Kind => GrainMethodKind.TaskOfResult;

    /// <summary>Writes the result of a completed <c>Task&lt;TResult&gt;</c>.</summary>
    public override void WriteResult(Utf8JsonWriter writer, object completedTask) =>
        JsonSerializer.Serialize(writer, ((Task<TResult>)completedTask).Result, ResultType);

    protected override GrainMethod With(string name, Func<object, object?[], CancellationToken, object> invoker, JsonTypeInfo[] types, bool interleave) =>
        new TaskMethod<TResult>(ResultType) { Name = name, Invoker = invoker, ParameterTypes = types, AlwaysInterleave = interleave };
}

/// <summary>A method returning <c>IAsyncEnumerable&lt;TItem&gt;</c>.</summary>
internal sealed class StreamMethod<TItem> : GrainMethod
{
    [System.Diagnostics.CodeAnalysis.SetsRequiredMembers]
    public StreamMethod(JsonTypeInfo itemType)
    {
        ItemType = (JsonTypeInfo<TItem>)itemType;
        Name = "";
        Invoker = static (_, _, _) => throw new InvalidOperationException();
        ParameterTypes = [];
    }

    public JsonTypeInfo<TItem> ItemType { get; }

    public override GrainMethodKind Kind => GrainMethodKind.Stream;

    public override Task ServeStreamAsync(ActivationCatalog catalog, GrainId grainId, GrainInterfaceInfo info, object?[] arguments,
        Microsoft.AspNetCore.Http.HttpContext context, CancellationToken cancellationToken) =>
        StreamServer.ServeAsync(catalog, grainId, info, this, arguments, context, cancellationToken);

    protected override GrainMethod With(string name, Func<object, object?[], CancellationToken, object> invoker, JsonTypeInfo[] types, bool interleave) =>
        new StreamMethod<TItem>(ItemType) { Name = name, Invoker = invoker, ParameterTypes = types, AlwaysInterleave = interleave };
}
