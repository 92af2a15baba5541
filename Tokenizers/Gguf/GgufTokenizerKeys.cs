namespace OrleansLlm.Tokenizers.Gguf;

/// <summary>The tokenizer keys of GGUF metadata (docs/GGUF.md, "Tokenizer metadata").</summary>
public static class GgufTokenizerKeys
{
    public const string Model = "tokenizer.ggml.model";
    public const string Pre = "tokenizer.ggml.pre";
    public const string Tokens = "tokenizer.ggml.tokens";
    public const string TokenType = "tokenizer.ggml.token_type";
    public const string Merges = "tokenizer.ggml.merges";
    public const string Scores = "tokenizer.ggml.scores";
    public const string BosTokenId = "tokenizer.ggml.bos_token_id";
    public const string EosTokenId = "tokenizer.ggml.eos_token_id";
    public const string EotTokenId = "tokenizer.ggml.eot_token_id";
    public const string EomTokenId = "tokenizer.ggml.eom_token_id";
    public const string PaddingTokenId = "tokenizer.ggml.padding_token_id";
    public const string UnknownTokenId = "tokenizer.ggml.unknown_token_id";
    public const string AddBosToken = "tokenizer.ggml.add_bos_token";
    public const string AddEosToken = "tokenizer.ggml.add_eos_token";
    public const string ChatTemplate = "tokenizer.chat_template";

    /// <summary>`tokenizer.ggml.model` of byte-level BPE.</summary>
    public const string Gpt2Model = "gpt2";

    /// <summary>`tokenizer.ggml.model` of SentencePiece-style BPE with byte fallback.</summary>
    public const string LlamaModel = "llama";
}

/// <summary>`tokenizer.ggml.token_type` values (llama.cpp's `llama_token_type`).</summary>
public enum GgufTokenType
{
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}
