using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using OrleansLlm.Tests.Shared;

namespace OrleansLlm.Platform.Tests;

/// <summary>
/// `orleansllm serve --model FILE.gguf`: the cluster's model converted to one GGUF file and served
/// alone must answer a greedy chat request exactly as the cluster does from the Hugging Face folder
/// — the same prompt tokens (so the chat template and tokenizer came from the file's metadata) and
/// the same text (the same weights through the native GGUF loader).
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class GgufServeTests(PlatformFixture f)
{
    private static readonly JsonObject s_request = new()
    {
        ["model"] = PlatformFixture.Model,
        ["messages"] = new JsonArray(
            new JsonObject { ["role"] = "system", ["content"] = "You are a test." },
            new JsonObject { ["role"] = "user", ["content"] = "Say something about GGUF files." }),
        ["max_tokens"] = 16,
        ["temperature"] = 0,
    };

    [Fact]
    public async Task Serve_answers_from_a_gguf_file_with_its_own_template_exactly_as_from_the_folder()
    {
        var gguf = Path.Combine(f.TempDir, "tiny.gguf");
        using (var convert = ManagedProcess.Start("convert", PlatformFixture.Dotnet(),
            [PlatformFixture.FindDll("Cli", "orleansllm.dll"), "convert", "--to", "gguf", f.ModelDir, gguf, "--force"],
            Path.Combine(f.TempDir, "convert.log")))
        {
            Assert.True(await convert.WaitForExitAsync(TimeSpan.FromSeconds(60)) && convert.ExitCode == 0, f.Logs());
        }

        var port = FreePorts.Next();
        using var serve = ManagedProcess.Start("serve-gguf", PlatformFixture.Dotnet(),
            [PlatformFixture.FindDll("Cli", "orleansllm.dll"), "serve", "--model", gguf, "--served-model-name", PlatformFixture.Model,
             "--port", port.ToString(), "--threads", "1", "--kv-cache-mib", "64"],
            Path.Combine(f.TempDir, "serve-gguf.log"));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
        await WaitReadyAsync(http, serve);

        var fromFile = await ChatAsync(http);
        var fromFolder = await ChatAsync(f.Http);

        Assert.True((int)fromFile["usage"]!["prompt_tokens"]! > 10);
        Assert.Equal((int)fromFolder["usage"]!["prompt_tokens"]!, (int)fromFile["usage"]!["prompt_tokens"]!);
        Assert.Equal((string)fromFolder["choices"]![0]!["message"]!["content"]!, (string)fromFile["choices"]![0]!["message"]!["content"]!);
        Assert.Equal(16, (int)fromFile["usage"]!["completion_tokens"]!);
    }

    private static async Task<JsonNode> ChatAsync(HttpClient http)
    {
        using var response = await http.PostAsJsonAsync("/v1/chat/completions", s_request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonNode.Parse(body)!;
    }

    /// <summary>Waits for /ready (an engine registered and serving), not /health: the gateway is
    /// healthy as soon as it listens, while the engine may still be loading the file.</summary>
    private static async Task WaitReadyAsync(HttpClient http, ManagedProcess serve)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(90))
        {
            Assert.False(serve.HasExited, "serve exited before it was ready");
            try
            {
                using var response = await http.GetAsync("/ready");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(250);
        }
        throw new TimeoutException("serve --model FILE.gguf was not ready within 90 s");
    }
}
