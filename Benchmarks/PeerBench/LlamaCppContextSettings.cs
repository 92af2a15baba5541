using LLama.Native;

namespace OrleansLlm.PeerBench;

/// <summary>How a llama.cpp context keeps its KV cache and runs attention, where it is not left to
/// llama.cpp (null: llama.cpp's own choice — an F16 cache and, on the CPU, flash attention).</summary>
internal sealed record LlamaCppContextSettings(GGMLType? KvCacheType, bool? FlashAttention, string Name)
{
    /// <summary>GGML_TYPE_BF16, which LLamaSharp 0.30's <see cref="GGMLType"/> does not name.</summary>
    private const GGMLType Bf16 = (GGMLType)30;

    /// <summary>The most exact llama.cpp computes: an F32 KV cache and attention without flash
    /// attention (which rounds Q to the cache's type). Reference logits are taken with it.</summary>
    public static readonly LlamaCppContextSettings Exact = new(GGMLType.GGML_TYPE_F32, false, "kv cache f32, flash attention off");

    /// <summary>Settings llama.cpp treats as equivalent to its default: how far its logits move under
    /// them is the floor against which any agreement with it can be read.</summary>
    public static readonly IReadOnlyList<LlamaCppContextSettings> EquivalentVariants =
    [
        new(Bf16, null, "kv cache bf16"),
        new(null, false, "flash attention off"),
    ];

    public void ApplyTo(ref LLamaContextParams parameters)
    {
        if (KvCacheType is { } type)
        {
            parameters.type_k = type;
            parameters.type_v = type;
        }
        if (FlashAttention is { } on)
        {
            parameters.llama_flash_attn_type = on ? LLamaFlashAttentionType.LLAMA_FLASH_ATTENTION_TYPE_ENABLED
                : LLamaFlashAttentionType.LLAMA_FLASH_ATTENTION_TYPE_DISABLED;
        }
    }
}
