namespace OrleansLlm.Cli.ModelMaking;

/// <summary>How a tensor's random values are drawn.</summary>
internal enum TensorInit
{
    /// <summary>Matrices: roughly normal with standard deviation 0.02.</summary>
    Weight,

    /// <summary>RMSNorm weights: 1.0 plus small noise.</summary>
    NormWeight,

    /// <summary>Projection biases: small values around zero.</summary>
    Bias,
}

/// <summary>One tensor of the checkpoint under its Hugging Face name; shapes are row-major
/// (a linear layer's weight is [out_features, in_features]).</summary>
internal sealed record TensorSpec(string Name, long[] Shape, TensorInit Init)
{
    public long ElementCount => Shape.Aggregate(1L, (product, dim) => product * dim);
}

/// <summary>A preset's shapes with an architecture's features and an element type: everything
/// that decides which tensors the checkpoint holds.</summary>
internal sealed record ModelSpec(ModelPreset Preset, ModelArchitecture Architecture, TensorDType DType)
{
    /// <summary>Tensors in the order transformers' state_dict lists them: embeddings, layers, final norm, lm_head.</summary>
    public IReadOnlyList<TensorSpec> Tensors()
    {
        var p = Preset;
        long hidden = p.HiddenSize;
        long qDim = (long)p.HeadCount * p.HeadDim;
        long kvDim = (long)p.KvHeadCount * p.HeadDim;
        var tensors = new List<TensorSpec> { new("model.embed_tokens.weight", [p.VocabSize, hidden], TensorInit.Weight) };
        for (int layer = 0; layer < p.LayerCount; layer++)
        {
            string prefix = $"model.layers.{layer}.";
            tensors.Add(new(prefix + "input_layernorm.weight", [hidden], TensorInit.NormWeight));
            tensors.Add(new(prefix + "self_attn.q_proj.weight", [qDim, hidden], TensorInit.Weight));
            tensors.Add(new(prefix + "self_attn.k_proj.weight", [kvDim, hidden], TensorInit.Weight));
            tensors.Add(new(prefix + "self_attn.v_proj.weight", [kvDim, hidden], TensorInit.Weight));
            tensors.Add(new(prefix + "self_attn.o_proj.weight", [hidden, qDim], TensorInit.Weight));
            if (Architecture.HasQkvBias())
            {
                tensors.Add(new(prefix + "self_attn.q_proj.bias", [qDim], TensorInit.Bias));
                tensors.Add(new(prefix + "self_attn.k_proj.bias", [kvDim], TensorInit.Bias));
                tensors.Add(new(prefix + "self_attn.v_proj.bias", [kvDim], TensorInit.Bias));
            }
            if (Architecture.HasQkNorm())
            {
                tensors.Add(new(prefix + "self_attn.q_norm.weight", [p.HeadDim], TensorInit.NormWeight));
                tensors.Add(new(prefix + "self_attn.k_norm.weight", [p.HeadDim], TensorInit.NormWeight));
            }
            tensors.Add(new(prefix + "post_attention_layernorm.weight", [hidden], TensorInit.NormWeight));
            tensors.Add(new(prefix + "mlp.gate_proj.weight", [p.IntermediateSize, hidden], TensorInit.Weight));
            tensors.Add(new(prefix + "mlp.up_proj.weight", [p.IntermediateSize, hidden], TensorInit.Weight));
            tensors.Add(new(prefix + "mlp.down_proj.weight", [hidden, p.IntermediateSize], TensorInit.Weight));
        }
        tensors.Add(new("model.norm.weight", [hidden], TensorInit.NormWeight));
        if (!p.TieWordEmbeddings)
        {
            tensors.Add(new("lm_head.weight", [p.VocabSize, hidden], TensorInit.Weight));
        }
        return tensors;
    }

    public long WeightBytes => Tensors().Sum(t => t.ElementCount) * DType.ByteSize();
}
