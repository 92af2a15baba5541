using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace OrleansLlm.Runtime;

/// <summary>
/// Sends calls to other silos over pooled HTTP/2 connections and classifies every failure as
/// "provably not executed" (<see cref="CallNotExecutedException"/>, safe to retry) or "may have
/// run" (<see cref="CallOutcomeUnknownException"/>, never retried).
/// </summary>
internal sealed class SiloTransportClient : IDisposable
{
    private readonly HttpClient _http;

    // one token per target silo, cancelled when membership declares the silo dead: calls in flight
    // to it then fail at once (outcome unknown) instead of waiting on a frozen connection
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _lifetimes = new();
    private readonly ConcurrentDictionary<string, bool> _abandoned = new();

    public SiloTransportClient(ClusterOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = TimeSpan.FromSeconds(2),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            KeepAlivePingDelay = TimeSpan.FromSeconds(10),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
        };
        if (options.RemoteCertificateValidation is { } validate)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = validate;
        }
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public async Task<TResult?> InvokeAsync<TResult>(SiloRecord target, GrainId grainId, GrainInterfaceInfo info, GrainMethod method,
        JsonTypeInfo<TResult>? resultType, object?[] arguments, CancellationToken cancellationToken)
    {
        var lifetime = Lifetime(target);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime);
        using var request = CreateRequest(target, grainId, info, method, arguments);
        try
        {
            using var response = await SendAsync(target, request, HttpCompletionOption.ResponseContentRead, linked.Token);
            var body = await ReadBodyAsync(target, response, linked.Token);
            ThrowIfFailed(target, response, body);
            return resultType is null ? default : JsonSerializer.Deserialize(body, resultType);
        }
        catch (OperationCanceledException) when (lifetime.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw SiloLeftDuringCall(target, request);
        }
    }

    /// <summary>Starts a streaming call; returns once the callee admitted it (status 200).</summary>
    public async Task<IAsyncEnumerable<TItem>> OpenStreamAsync<TItem>(SiloRecord target, GrainId grainId, GrainInterfaceInfo info,
        StreamMethod<TItem> method, object?[] arguments, CancellationToken startToken)
    {
        var lifetime = Lifetime(target);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(startToken, lifetime);
        var request = CreateRequest(target, grainId, info, method, arguments);
        HttpResponseMessage? response = null;
        try
        {
            response = await SendAsync(target, request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                var body = await ReadBodyAsync(target, response, linked.Token);
                ThrowIfFailed(target, response, body);
            }
            var items = ReadItemsAsync(target, request, response, method, lifetime, default);
            response = null;
            return items;
        }
        catch (OperationCanceledException) when (lifetime.IsCancellationRequested && !startToken.IsCancellationRequested)
        {
            throw SiloLeftDuringCall(target, request);
        }
        finally
        {
            if (response is not null)
            {
                response.Dispose();
                request.Dispose();
            }
        }
    }

    /// <summary>The silo was declared dead or left: fail the calls in flight to it, refuse new ones.</summary>
    public void AbandonSilo(string siloId)
    {
        _abandoned[siloId] = true;
        if (_lifetimes.TryRemove(siloId, out var lifetime))
        {
            lifetime.Cancel();
        }
    }

    private CancellationToken Lifetime(SiloRecord target)
    {
        if (_abandoned.ContainsKey(target.Id))
        {
            throw new CallNotExecutedException($"silo {target.Id} has left the cluster") { Unreachable = true };
        }
        return _lifetimes.GetOrAdd(target.Id, _ => new CancellationTokenSource()).Token;
    }

    private static GrainRuntimeException SiloLeftDuringCall(SiloRecord target, HttpRequestMessage? request = null) =>
        request is not null && !BodySent(request)
            ? new CallNotExecutedException($"silo {target.Id} was declared dead before the call was sent") { Unreachable = true }
            : new CallOutcomeUnknownException($"silo {target.Id} was declared dead during the call; it may or may not have run", null);

    /// <summary>True if the silo at the record's address answers with the record's id.</summary>
    public async Task<bool> ProbeAsync(SiloRecord silo, TimeSpan timeout)
    {
        try
        {
            using var cts = new CancellationTokenSource(timeout);
            using var request = new HttpRequestMessage(HttpMethod.Get, silo.Address + WireProtocol.PingPath)
            {
                Version = HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
            using var response = await _http.SendAsync(request, cts.Token);
            return response.IsSuccessStatusCode && await response.Content.ReadAsStringAsync(cts.Token) == silo.Id;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
        {
            return false;
        }
    }

    private static HttpRequestMessage CreateRequest(SiloRecord target, GrainId grainId, GrainInterfaceInfo info, GrainMethod method, object?[] arguments)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            method.WriteArguments(writer, arguments);
        }
        var content = new CallContent(buffer.WrittenSpan.ToArray());
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, target.Address + WireProtocol.CallPath)
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        request.Headers.TryAddWithoutValidation(WireProtocol.GrainTypeHeader, info.TypeName);
        request.Headers.TryAddWithoutValidation(WireProtocol.GrainKeyHeader, Uri.EscapeDataString(grainId.Key));
        request.Headers.TryAddWithoutValidation(WireProtocol.MethodHeader, method.Name[(method.Name.IndexOf('.', StringComparison.Ordinal) + 1)..]);
        return request;
    }

    private async Task<HttpResponseMessage> SendAsync(SiloRecord target, HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        try
        {
            return await _http.SendAsync(request, completion, cancellationToken);
        }
        catch (HttpRequestException e) when (e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError || !BodySent(request))
        {
            // the arguments never left this process: the callee cannot have run the call
            throw new CallNotExecutedException($"silo {target.Id} at {target.Address} is unreachable ({e.Message})") { Unreachable = true };
        }
        catch (HttpRequestException e)
        {
            throw new CallOutcomeUnknownException($"connection to silo {target.Id} failed during the call; it may or may not have run ({e.Message})", e);
        }
    }

    private static bool BodySent(HttpRequestMessage request) => request.Content is not CallContent content || content.SendStarted;

    private static async Task<byte[]> ReadBodyAsync(SiloRecord target, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadAsByteArrayAsync(cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            throw new CallOutcomeUnknownException($"connection to silo {target.Id} broke while reading the answer ({e.Message})", e);
        }
    }

    private static void ThrowIfFailed(SiloRecord target, HttpResponseMessage response, byte[] body)
    {
        if (response.StatusCode == HttpStatusCode.OK)
        {
            return;
        }
        if (response.Headers.TryGetValues(WireProtocol.NotExecutedHeader, out var reasons))
        {
            var redirectSilo = response.Headers.TryGetValues(WireProtocol.RedirectSiloHeader, out var s) ? s.FirstOrDefault() : null;
            var redirectAddress = response.Headers.TryGetValues(WireProtocol.RedirectAddressHeader, out var a) ? a.FirstOrDefault() : null;
            throw new CallNotExecutedException(Uri.UnescapeDataString(reasons.First()), redirectSilo, redirectAddress);
        }
        if (response.StatusCode == HttpStatusCode.RequestEntityTooLarge)
        {
            throw new GrainRuntimeException($"the call's arguments exceed silo {target.Id}'s request size limit; it did not run");
        }
        if (response.StatusCode is HttpStatusCode.InternalServerError or HttpStatusCode.BadRequest && body.Length > 0)
        {
            throw WireProtocol.ReadError(body);
        }
        throw new CallOutcomeUnknownException($"silo {target.Id} answered HTTP {(int)response.StatusCode}", null);
    }

    private static async IAsyncEnumerable<TItem> ReadItemsAsync<TItem>(SiloRecord target, HttpRequestMessage request, HttpResponseMessage response,
        StreamMethod<TItem> method, CancellationToken lifetime, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // disposing the response before the done frame resets the HTTP/2 stream: the callee's token fires
        using var ownedRequest = request;
        using var ownedResponse = response;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime);
        var reader = PipeReader.Create(await response.Content.ReadAsStreamAsync(cancellationToken));
        try
        {
            var items = new List<TItem>();
            while (true)
            {
                var result = await ReadAsync(target, reader, linked.Token, lifetime, cancellationToken);
                var buffer = result.Buffer;
                var end = ParseFrames(ref buffer, method.ItemType, items, out var error);
                reader.AdvanceTo(buffer.Start, buffer.End);
                foreach (var item in items)
                {
                    yield return item;
                }
                items.Clear();
                if (error is not null)
                {
                    throw error;
                }
                if (end)
                {
                    yield break;
                }
                if (result.IsCompleted)
                {
                    throw new CallOutcomeUnknownException($"stream from silo {target.Id} ended without its completion frame", null);
                }
            }
        }
        finally
        {
            await reader.CompleteAsync();
        }
    }

    private static async ValueTask<ReadResult> ReadAsync(SiloRecord target, PipeReader reader, CancellationToken linked,
        CancellationToken lifetime, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.ReadAsync(linked);
        }
        catch (OperationCanceledException) when (lifetime.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw SiloLeftDuringCall(target);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            throw new CallOutcomeUnknownException($"stream from silo {target.Id} broke ({e.Message})", e);
        }
    }

    // parses complete lines; true when the done frame was read
    private static bool ParseFrames<TItem>(ref ReadOnlySequence<byte> buffer, JsonTypeInfo<TItem> itemType, List<TItem> items, out Exception? error)
    {
        error = null;
        while (true)
        {
            var newline = buffer.PositionOf((byte)'\n');
            if (newline is null)
            {
                return false;
            }
            var line = buffer.Slice(0, newline.Value);
            buffer = buffer.Slice(buffer.GetPosition(1, newline.Value));
            var kind = line.FirstSpan[0];
            var json = line.Slice(1);
            switch (kind)
            {
                case (byte)'i':
                    var reader = new Utf8JsonReader(json);
                    items.Add(JsonSerializer.Deserialize(ref reader, itemType)!);
                    break;
                case (byte)'d':
                    return true;
                case (byte)'e':
                    error = WireProtocol.ReadError(json.IsSingleSegment ? json.FirstSpan : json.ToArray());
                    return true;
                default:
                    error = new GrainRuntimeException($"unknown stream frame '{(char)kind}'");
                    return true;
            }
        }
    }

    public void Dispose() => _http.Dispose();
}
