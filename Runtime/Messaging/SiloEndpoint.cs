using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace OrleansLlm.Runtime;

/// <summary>The HTTP side of a silo: receives calls from other silos and clients (see <see cref="WireProtocol"/>).</summary>
internal sealed class SiloEndpoint(ActivationCatalog catalog, GrainTypeCatalog types, LocalSilo silo)
{
    public async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value;
        if (path == WireProtocol.PingPath)
        {
            await context.Response.WriteAsync(silo.Id, context.RequestAborted);
            return;
        }
        if (path != WireProtocol.CallPath || !HttpMethods.IsPost(context.Request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        await HandleCallAsync(context);
    }

    private async Task HandleCallAsync(HttpContext context)
    {
        var cancellationToken = context.RequestAborted;
        var headers = context.Request.Headers;
        var typeName = headers[WireProtocol.GrainTypeHeader].ToString();
        var info = types.Find(typeName);
        if (info is null || !info.Methods.TryGetValue(headers[WireProtocol.MethodHeader].ToString(), out var method))
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest,
                new GrainRuntimeException($"silo {silo.Name} does not know grain method {typeName}.{headers[WireProtocol.MethodHeader]}"));
            return;
        }
        var grainId = new GrainId(info.TypeName, Uri.UnescapeDataString(headers[WireProtocol.GrainKeyHeader].ToString()));
        object?[] arguments;
        try
        {
            arguments = method.ReadArguments(await ReadBodyAsync(context.Request.BodyReader, cancellationToken));
        }
        catch (JsonException e)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, new GrainRuntimeException($"malformed arguments for {method.Name}: {e.Message}"));
            return;
        }
        try
        {
            if (method.Kind == GrainMethodKind.Stream)
            {
                await method.ServeStreamAsync(catalog, grainId, info, arguments, context, cancellationToken);
                return;
            }
            var completed = await catalog.InvokeAsync(grainId, info, method, arguments, cancellationToken);
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/json";
            using (var writer = new Utf8JsonWriter((IBufferWriter<byte>)context.Response.BodyWriter))
            {
                method.WriteResult(writer, completed);
            }
            await context.Response.BodyWriter.FlushAsync(cancellationToken);
        }
        catch (CallNotExecutedException e) when (!context.Response.HasStarted)
        {
            context.Response.StatusCode = e.RedirectSiloId is null ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status421MisdirectedRequest;
            context.Response.Headers[WireProtocol.NotExecutedHeader] = Uri.EscapeDataString(e.Reason);
            if (e.RedirectSiloId is not null)
            {
                context.Response.Headers[WireProtocol.RedirectSiloHeader] = e.RedirectSiloId;
                context.Response.Headers[WireProtocol.RedirectAddressHeader] = e.RedirectAddress;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // the caller went away; nobody reads an answer
        }
        catch (Exception e) when (!context.Response.HasStarted)
        {
            await WriteErrorAsync(context, StatusCodes.Status500InternalServerError, e);
        }
    }

    private static async Task<byte[]> ReadBodyAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            if (result.IsCompleted)
            {
                var body = result.Buffer.ToArray();
                reader.AdvanceTo(result.Buffer.End);
                return body;
            }
            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    private static async Task WriteErrorAsync(HttpContext context, int status, Exception exception)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        WireProtocol.WriteError(context.Response.BodyWriter, exception);
        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }
}
