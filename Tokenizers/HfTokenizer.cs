using System.Text;
using Decoder = OrleansLlm.Tokenizers.Decoding.Decoder;
using System.Text.Json;
using System.Text.Json.Nodes;
using OrleansLlm.Tokenizers.ChatTemplates;
using OrleansLlm.Gguf;
using OrleansLlm.Tokenizers.Decoding;
using OrleansLlm.Tokenizers.Gguf;
using OrleansLlm.Tokenizers.Models;
using OrleansLlm.Tokenizers.Normalization;
using OrleansLlm.Tokenizers.PostProcessing;
using OrleansLlm.Tokenizers.PreTokenization;

namespace OrleansLlm.Tokenizers;

/// <summary>
/// A Hugging Face tokenizer (tokenizer.json BPE model with its normalizer, pre-tokenizer,
/// post-processor and decoder, plus tokenizer_config.json) that encodes, decodes, streams and
/// renders chat templates. Thread-safe after <see cref="Load"/>.
/// </summary>
public sealed class HfTokenizer
{
    private readonly Vocabulary _vocabulary;
    private readonly BpeModel _model;
    private readonly Normalizer? _normalizer;
    private readonly PreTokenizer? _preTokenizer;
    private readonly bool _byteLevel;
    private readonly int[] _prefixIds;
    private readonly int[] _suffixIds;
    private readonly Decoder? _decoder;
    private readonly TokenPieceTable? _pieces;
    private readonly AddedTokenMatcher _rawAddedTokens;
    private readonly AddedTokenMatcher _normalizedAddedTokens;
    private readonly Dictionary<string, AddedToken> _addedByContent;
    private readonly Dictionary<string, AddedToken>.AlternateLookup<ReadOnlySpan<char>> _addedBySpan;
    private readonly bool[] _isSpecial;
    private readonly string _unknownToken;
    private readonly TokenizerFiles _files;
    private readonly Dictionary<string, ChatTemplate> _templates = new();

    private HfTokenizer(TokenizerFiles files)
    {
        _files = files;
        var root = files.Tokenizer.RootElement;
        var modelConfig = root.Property("model");
        string modelType = modelConfig.OptionalString("type") ?? "BPE";
        if (modelType != "BPE")
        {
            throw new TokenizerException($"Unsupported model type \"{modelType}\" (only BPE is implemented)");
        }

        AddedTokens = AddedToken.ReadAll(root);
        _vocabulary = Vocabulary.Read(modelConfig, AddedTokens);
        _model = BpeModel.Create(modelConfig, _vocabulary);
        _normalizer = Normalizer.Create(root.Property("normalizer"));
        _preTokenizer = PreTokenizer.Create(root.Property("pre_tokenizer"));
        _byteLevel = _preTokenizer?.ProducesByteLevel ?? false;
        var postProcessor = PostProcessor.Create(root.Property("post_processor"));
        (_prefixIds, _suffixIds) = postProcessor?.SingleSequenceAffixes ?? ([], []);

        _addedByContent = new Dictionary<string, AddedToken>(StringComparer.Ordinal);
        foreach (var token in AddedTokens)
        {
            _addedByContent[token.Content] = token;
        }
        _rawAddedTokens = new AddedTokenMatcher(AddedTokens.Where(t => !t.Normalized || _normalizer is null));
        var normalizedTokens = new List<AddedToken>();
        foreach (var token in AddedTokens.Where(t => t.Normalized && _normalizer is not null))
        {
            var normalized = token with { Content = _normalizer!.Normalize(token.Content) };
            normalizedTokens.Add(normalized);
            _addedByContent[normalized.Content] = token;
        }
        _normalizedAddedTokens = new AddedTokenMatcher(normalizedTokens);
        _addedBySpan = _addedByContent.GetAlternateLookup<ReadOnlySpan<char>>();

        _unknownToken = modelConfig.OptionalString("unk_token") ?? "";
        var addedContents = AddedTokens.Select(t => t.Content).ToHashSet(StringComparer.Ordinal);
        _decoder = Decoder.Create(root.Property("decoder"), addedContents);
        _pieces = TokenPieceTable.TryCreate(_decoder, _vocabulary.Tokens, _unknownToken);

        var specialStrings = AddedTokens.Where(t => t.Special).Select(t => t.Content)
            .Concat(files.AdditionalSpecialTokens()).ToHashSet(StringComparer.Ordinal);
        _isSpecial = _vocabulary.Tokens.Select(t => t is not null && specialStrings.Contains(t)).ToArray();

        CleanUpTokenizationSpaces = files.Config.OptionalBool("clean_up_tokenization_spaces", true);
        BosToken = files.SpecialToken("bos_token");
        EosToken = files.SpecialToken("eos_token");
        UnkToken = files.SpecialToken("unk_token");
        PadToken = files.SpecialToken("pad_token");
        BosTokenId = BosToken is not null && _vocabulary.TryGetId(BosToken, out int bos) ? bos : null;
        EosTokenId = EosToken is not null && _vocabulary.TryGetId(EosToken, out int eos) ? eos : null;
        var stopIds = files.GenerationEosTokenIds().ToList();
        if (EosTokenId is int eosId && !stopIds.Contains(eosId))
        {
            stopIds.Insert(0, eosId);
        }
        EosTokenIds = stopIds;
    }

    /// <summary>Number of ids (model vocabulary plus added tokens).</summary>
    public int VocabSize => _vocabulary.Count;

    /// <summary>The added tokens of tokenizer.json, in file order.</summary>
    public IReadOnlyList<AddedToken> AddedTokens { get; }

    /// <summary>Beginning-of-sequence token string from tokenizer_config.json, if any.</summary>
    public string? BosToken { get; }

    /// <summary>End-of-sequence token string from tokenizer_config.json, if any.</summary>
    public string? EosToken { get; }

    /// <summary>Unknown token string from tokenizer_config.json, if any.</summary>
    public string? UnkToken { get; }

    /// <summary>Padding token string from tokenizer_config.json, if any.</summary>
    public string? PadToken { get; }

    /// <summary>Id of <see cref="BosToken"/>.</summary>
    public int? BosTokenId { get; }

    /// <summary>Id of <see cref="EosToken"/>.</summary>
    public int? EosTokenId { get; }

    /// <summary>Ids that end generation: <see cref="EosTokenId"/> plus generation_config.json's eos_token_id list.</summary>
    public IReadOnlyList<int> EosTokenIds { get; }

    /// <summary>Whether <see cref="Decode"/> applies the tokenization-space clean-up by default (tokenizer_config.json).</summary>
    public bool CleanUpTokenizationSpaces { get; }

    /// <summary>Whether the tokenizer has a chat template of its own (otherwise ChatML is used).</summary>
    public bool HasChatTemplate => _files.ChatTemplate(null) is not null;

    /// <summary>
    /// Loads a tokenizer folder (tokenizer.json and, when present, tokenizer_config.json,
    /// special_tokens_map.json and generation_config.json) or the tokenizer of a .gguf file.
    /// </summary>
    public static HfTokenizer Load(string path)
    {
        if (IsGgufFile(path))
        {
            return LoadGguf(path);
        }
        return Create(TokenizerFiles.Read(path), path);
    }

    /// <summary>Loads the tokenizer and chat template stored in a GGUF file's metadata.</summary>
    public static HfTokenizer LoadGguf(string path)
    {
        GgufFile file;
        try
        {
            file = GgufReader.Read(path);
        }
        catch (GgufFormatException e)
        {
            throw new TokenizerException(e.Message, e);
        }
        return LoadGguf(file.Metadata, path);
    }

    /// <summary>Builds the tokenizer of GGUF metadata already read (<paramref name="name"/> names the file in errors).</summary>
    public static HfTokenizer LoadGguf(GgufMetadata metadata, string name)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        TokenizerFiles files;
        try
        {
            files = GgufTokenizerFiles.Create(metadata, name);
        }
        catch (InvalidDataException e)
        {
            throw new TokenizerException($"GGUF file \"{name}\": {e.Message}", e);
        }
        return Create(files, name);
    }

    /// <summary>Whether <paramref name="path"/> is a file (not a folder) that starts with the GGUF magic.</summary>
    public static bool IsGgufFile(string path) => File.Exists(path) && GgufReader.HasMagic(path);

    private static HfTokenizer Create(TokenizerFiles files, string source)
    {
        try
        {
            return new HfTokenizer(files);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new TokenizerException($"Malformed tokenizer files in \"{source}\": {e.Message}", e);
        }
        finally
        {
            files.Tokenizer.Dispose();
        }
    }

    /// <summary>Ids the post-processor puts before and after a sequence when special tokens are added.</summary>
    internal (int[] Prefix, int[] Suffix) SpecialTokenAffixes => (_prefixIds, _suffixIds);

    /// <summary>Whether the pre-tokenizer maps text to GPT-2's byte alphabet (byte-level BPE).</summary>
    internal bool IsByteLevel => _byteLevel;

    /// <summary>The token string of <paramref name="id"/>, or null when the id has none.</summary>
    public string? IdToToken(int id) => (uint)id < (uint)_vocabulary.Count ? _vocabulary.Tokens[id] : null;

    /// <summary>The id of a token string, or null.</summary>
    public int? TokenToId(string token) => _vocabulary.TryGetId(token, out int id) ? id : null;

    /// <summary>Whether decoding with skip_special_tokens drops <paramref name="id"/>.</summary>
    public bool IsSpecial(int id) => (uint)id < (uint)_isSpecial.Length && _isSpecial[id];

    /// <summary>Encodes <paramref name="text"/>; added tokens in the text are matched first, special ones included.</summary>
    public int[] Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 4);
        if (addSpecialTokens)
        {
            ids.AddRange(_prefixIds);
        }
        EncodeText(text, ids);
        if (addSpecialTokens)
        {
            ids.AddRange(_suffixIds);
        }
        return ids.ToArray();
    }

    private void EncodeText(string text, List<int> ids)
    {
        var sections = new List<Section>();
        _rawAddedTokens.Split(Piece.Of(text), sections);
        var words = new List<Piece>();
        var subsections = new List<Section>();
        for (int sectionIndex = 0; sectionIndex < sections.Count; sectionIndex++)
        {
            var section = sections[sectionIndex];
            if (section.Token is not null)
            {
                ids.Add(section.Token.Id);
                continue;
            }
            if (section.Text.Length == 0)
            {
                continue;
            }
            Piece piece = section.Text;
            if (_addedBySpan.TryGetValue(piece.Span, out var addedSection))
            {
                ids.Add(addedSection.Id); // a section that is exactly an added token (the reference checks before normalizing)
                continue;
            }
            if (_normalizer is not null)
            {
                string normalized = _normalizer.Normalize(piece.ToString());
                if (normalized.Length == 0)
                {
                    continue;
                }
                piece = Piece.Of(normalized);
            }
            subsections.Clear();
            if (_normalizedAddedTokens.IsEmpty)
            {
                subsections.Add(new Section(null, piece));
            }
            else
            {
                _normalizedAddedTokens.Split(piece, subsections);
            }
            foreach (var subsection in subsections)
            {
                if (subsection.Token is not null)
                {
                    ids.Add(_addedByContent[subsection.Token.Content].Id);
                    continue;
                }
                if (subsection.Text.Length == 0)
                {
                    continue;
                }
                if (_addedBySpan.TryGetValue(subsection.Text.Span, out var whole))
                {
                    ids.Add(whole.Id);
                    continue;
                }
                words.Clear();
                if (_preTokenizer is null)
                {
                    words.Add(subsection.Text);
                }
                else
                {
                    _preTokenizer.Split(subsection.Text, sectionIndex, words);
                }
                _model.Encode(words, _byteLevel, ids);
            }
        }
    }

    /// <summary>
    /// Decodes ids to text. <paramref name="cleanUpTokenizationSpaces"/> defaults to the
    /// tokenizer_config.json setting (" ." → "." and similar).
    /// </summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false, bool? cleanUpTokenizationSpaces = null)
    {
        foreach (int id in ids)
        {
            CheckId(id);
        }
        string text = _pieces is not null ? DecodeWithPieces(ids, skipSpecialTokens) : DecodeWithChain(ids, skipSpecialTokens);
        return cleanUpTokenizationSpaces ?? CleanUpTokenizationSpaces ? TokenizationSpaces.Apply(text) : text;
    }

    /// <summary>
    /// A streaming decoder: feed ids one at a time, get text as soon as it is stable. Its output
    /// equals <see cref="Decode"/> with the same arguments (see <see cref="IncrementalDetokenizer"/>).
    /// </summary>
    public IncrementalDetokenizer CreateDetokenizer(bool skipSpecialTokens = false, bool? cleanUpTokenizationSpaces = null) =>
        new(this, _pieces, skipSpecialTokens, cleanUpTokenizationSpaces ?? CleanUpTokenizationSpaces);

    /// <summary>Renders the chat template of tokenizer_config.json (ChatML when there is none) for simple role/content messages.</summary>
    public string ApplyChatTemplate(IEnumerable<ChatMessage> messages, bool addGenerationPrompt = true, ChatTemplateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var array = new JsonArray();
        foreach (var message in messages)
        {
            array.Add(new JsonObject { ["role"] = message.Role, ["content"] = message.Content });
        }
        return ApplyChatTemplate(array, addGenerationPrompt, options);
    }

    /// <summary>Renders the chat template for messages in OpenAI JSON form (tool_calls, content parts, reasoning_content...).</summary>
    public string ApplyChatTemplate(JsonArray messages, bool addGenerationPrompt = true, ChatTemplateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        options ??= new ChatTemplateOptions();
        var variables = new Dictionary<string, JsonNode?>(StringComparer.Ordinal)
        {
            ["messages"] = messages,
            ["add_generation_prompt"] = addGenerationPrompt,
            ["bos_token"] = BosToken,
            ["eos_token"] = EosToken,
        };
        if (UnkToken is not null)
        {
            variables["unk_token"] = UnkToken;
        }
        if (PadToken is not null)
        {
            variables["pad_token"] = PadToken;
        }
        if (options.Tools is not null)
        {
            variables["tools"] = options.Tools;
        }
        if (options.Documents is not null)
        {
            variables["documents"] = options.Documents;
        }
        foreach (var (name, value) in options.Variables ?? new Dictionary<string, JsonNode?>())
        {
            variables[name] = value;
        }
        return GetTemplate(options.TemplateName).Render(variables);
    }

    private ChatTemplate GetTemplate(string? name)
    {
        string key = name ?? "default";
        lock (_templates)
        {
            if (!_templates.TryGetValue(key, out var template))
            {
                string? source = _files.ChatTemplate(name);
                if (source is null && name is not null)
                {
                    throw new TokenizerException($"The tokenizer has no chat template named \"{name}\"");
                }
                template = ChatTemplate.Parse(source ?? ChatTemplate.ChatMl);
                _templates[key] = template;
            }
            return template;
        }
    }

    internal void CheckId(int id)
    {
        if ((uint)id >= (uint)_vocabulary.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id {id} is outside the vocabulary (0..{_vocabulary.Count - 1})");
        }
    }

    private string DecodeWithPieces(ReadOnlySpan<int> ids, bool skipSpecialTokens)
    {
        var text = new StringBuilder(ids.Length * 4);
        var bytes = new List<byte>(64);
        bool first = true;
        foreach (int id in ids)
        {
            if (skipSpecialTokens && _isSpecial[id])
            {
                continue;
            }
            var tokenBytes = _pieces!.Bytes(id);
            if (tokenBytes is not null)
            {
                bytes.AddRange(tokenBytes);
            }
            else
            {
                FlushBytes(bytes, text);
                string piece = _pieces.Text(id);
                text.Append(first && _pieces.FirstTokenDropsSpace && piece.StartsWith(' ') ? piece.AsSpan(1) : piece);
            }
            first = false;
        }
        FlushBytes(bytes, text);
        int strip = 0;
        while (strip < _pieces!.StripCount && strip < text.Length && text[strip] == _pieces.StripChar)
        {
            strip++;
        }
        return text.ToString(strip, text.Length - strip);
    }

    private static void FlushBytes(List<byte> bytes, StringBuilder text)
    {
        if (bytes.Count > 0)
        {
            text.Append(Decoder.DecodeUtf8(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes)));
            bytes.Clear();
        }
    }

    private string DecodeWithChain(ReadOnlySpan<int> ids, bool skipSpecialTokens)
    {
        var tokens = new List<string>(ids.Length);
        foreach (int id in ids)
        {
            if (!(skipSpecialTokens && _isSpecial[id]))
            {
                tokens.Add(_vocabulary.Tokens[id] ?? _unknownToken);
            }
        }
        return _decoder is null ? string.Join(' ', tokens) : string.Concat(_decoder.DecodeChain(tokens));
    }
}
