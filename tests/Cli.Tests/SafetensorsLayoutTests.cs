using System.Text;
using System.Text.Json;
using OrleansLlm.Cli.ModelMaking;

namespace OrleansLlm.Cli.Tests;

public class SafetensorsLayoutTests
{
    private static readonly IReadOnlyList<TensorSpec> _tinyTensors =
        new ModelSpec(ModelPresets.Tiny, ModelArchitecture.Qwen2, TensorDType.BF16).Tensors();

    [Fact]
    public void Under_the_shard_size_everything_goes_into_model_safetensors()
    {
        var shards = SafetensorsLayout.Plan(_tinyTensors, TensorDType.BF16, SafetensorsLayout.DefaultMaxShardBytes);
        var shard = Assert.Single(shards);
        Assert.Equal("model.safetensors", shard.FileName);
        Assert.Equal(_tinyTensors.Select(t => t.Name), shard.Tensors.Select(t => t.Tensor.Name));
    }

    [Fact]
    public void Header_is_json_padded_with_spaces_to_8_bytes_with_contiguous_offsets()
    {
        var shard = SafetensorsLayout.Plan(_tinyTensors, TensorDType.F16, long.MaxValue)[0];
        Assert.Equal(0, shard.DataStart % 8);
        string text = Encoding.UTF8.GetString(shard.Header);
        string trimmed = text.TrimEnd(' ');
        Assert.True(text.Length - trimmed.Length < 8);
        using var json = JsonDocument.Parse(trimmed);
        Assert.Equal("pt", json.RootElement.GetProperty("__metadata__").GetProperty("format").GetString());

        long expectedBegin = 0;
        foreach (var tensor in _tinyTensors)
        {
            var entry = json.RootElement.GetProperty(tensor.Name);
            Assert.Equal("F16", entry.GetProperty("dtype").GetString());
            Assert.Equal(tensor.Shape, entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
            var offsets = entry.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            Assert.Equal(expectedBegin, offsets[0]);
            Assert.Equal(tensor.ElementCount * 2, offsets[1] - offsets[0]);
            expectedBegin = offsets[1];
        }
        Assert.Equal(expectedBegin, shard.DataBytes);
    }

    [Fact]
    public void Small_shard_size_splits_into_numbered_files_each_under_the_limit()
    {
        const long maxBytes = 200_000;
        var shards = SafetensorsLayout.Plan(_tinyTensors, TensorDType.BF16, maxBytes);
        Assert.True(shards.Count > 2);
        for (int i = 0; i < shards.Count; i++)
        {
            Assert.Equal($"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors", shards[i].FileName);
            Assert.True(shards[i].DataBytes <= maxBytes || shards[i].Tensors.Count == 1,
                $"{shards[i].FileName} holds {shards[i].DataBytes} bytes in {shards[i].Tensors.Count} tensors");
        }
        Assert.Equal(_tinyTensors.Select(t => t.Name), shards.SelectMany(s => s.Tensors).Select(t => t.Tensor.Name));
    }

    [Fact]
    public void A_tensor_larger_than_the_shard_size_gets_a_shard_of_its_own()
    {
        var shards = SafetensorsLayout.Plan(_tinyTensors, TensorDType.F32, 1);
        Assert.Equal(_tinyTensors.Count, shards.Count);
        Assert.All(shards, s => Assert.Single(s.Tensors));
    }

    [Fact]
    public void Index_maps_every_tensor_to_its_file_and_totals_the_tensor_bytes()
    {
        var shards = SafetensorsLayout.Plan(_tinyTensors, TensorDType.BF16, 200_000);
        using var index = JsonDocument.Parse(SafetensorsLayout.IndexJson(shards));
        Assert.Equal(_tinyTensors.Sum(t => t.ElementCount * 2),
            index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
        var map = index.RootElement.GetProperty("weight_map").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        Assert.Equal(_tinyTensors.Count, map.Count);
        foreach (var shard in shards)
        {
            Assert.All(shard.Tensors, t => Assert.Equal(shard.FileName, map[t.Tensor.Name]));
        }
    }
}
