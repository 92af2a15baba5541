using System.Text.Json;
using OrleansLlm.PeerBench;

// orleansllm-peer-bench --model FILE.gguf [--threads N] [--reference REF.gguf] [--kv-cache-dtype bf16|int8] [--skip-speed] [--json]
// Spawned by `orleansllm bench peer`; prints one JSON object on stdout, progress on stderr.
string? model = null;
string? reference = null;
var skipSpeed = false;
var kvCache = OrleansLlm.Native.KvCacheType.ModelDefault;
var threads = Environment.ProcessorCount;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--model" when i + 1 < args.Length:
            model = args[++i];
            break;
        case "--threads" when i + 1 < args.Length && int.TryParse(args[i + 1], out var n) && n >= 0:
            threads = n == 0 ? Environment.ProcessorCount : n;
            i++;
            break;
        case "--reference" when i + 1 < args.Length:
            reference = args[++i];
            break;
        case "--kv-cache-dtype" when i + 1 < args.Length && OrleansLlm.Native.KvCacheTypes.Parse(args[i + 1]) is { } type:
            kvCache = type;
            i++;
            break;
        case "--skip-speed":
            skipSpeed = true;
            break;
        case "--json":
            break;  // JSON is the only output
        default:
            Console.Error.WriteLine($"error: unknown or incomplete argument '{args[i]}'");
            Console.Error.WriteLine("usage: orleansllm-peer-bench --model FILE.gguf [--threads N] [--reference REF.gguf] [--kv-cache-dtype bf16|int8] [--skip-speed] [--json]");
            return 2;
    }
}
if (model is null)
{
    Console.Error.WriteLine("error: --model FILE.gguf is required");
    return 2;
}
try
{
    var result = PeerBenchRunner.Run(new PeerBenchOptions(model, threads, ReferencePath: reference, SkipSpeed: skipSpeed, OursKvCache: kvCache), message => Console.Error.WriteLine($"[peer] {message}"));
    Console.WriteLine(JsonSerializer.Serialize(result, PeerBenchJson.Default.PeerBenchResult));
    return 0;
}
catch (Exception e) when (e is ArgumentException or InvalidOperationException or OrleansLlm.Native.NativeException
                           or LLama.Exceptions.RuntimeError)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
