using System.Numerics;
using System.Text;
using OrleansLlm.Tokenizers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace OrleansLlm.Cli.ModelMaking;

/// <summary>
/// A byte-level BPE tokenizer that fills a vocabulary of any size, for models made without a real
/// tokenizer. Ids 0–255 are the 256 byte symbols (GPT-2's byte-to-unicode alphabet, id = byte
/// value); then merges that grow letter strings one letter at a time in three families: words
/// after a space (`Ġ`+`w`, `Ġw`+`o`, …, also `Ġ`+`L`; half the merges), capitalised words (15%), and bare
/// lower-case runs (the rest). The space family ranks first, so BPE grows a word from its start
/// before it pairs the letters inside it, and English compresses to about three characters per
/// token. The last ids are ChatML special tokens.
/// </summary>
internal sealed class SyntheticTokenizer
{
    public const string EndOfText = "<|endoftext|>";
    public const string ImStart = "<|im_start|>";
    public const string ImEnd = "<|im_end|>";
    public static readonly IReadOnlyList<string> SpecialTokenContents = [EndOfText, ImStart, ImEnd];

    public const string ChatMlTemplate =
        "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    private const string LowerLetters = "abcdefghijklmnopqrstuvwxyz";
    private const string UpperLetters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

    private SyntheticTokenizer(List<string> vocab, List<(string Left, string Right)> merges, int firstSpecialId)
    {
        Vocab = vocab;
        Merges = merges;
        FirstSpecialId = firstSpecialId;
    }

    /// <summary>The BPE model's vocabulary; the index is the id.</summary>
    public IReadOnlyList<string> Vocab { get; }

    public IReadOnlyList<(string Left, string Right)> Merges { get; }

    /// <summary>Id of <see cref="EndOfText"/>; the other specials follow it.</summary>
    public int FirstSpecialId { get; }

    public int SpecialId(string content) => FirstSpecialId + SpecialTokenContents.ToList().IndexOf(content);

    /// <summary>bos is &lt;|endoftext|&gt; (as in Qwen's configs), eos is &lt;|im_end|&gt; (the end of a ChatML turn).</summary>
    public SpecialTokenIds TokenIds => new(SpecialId(EndOfText), SpecialId(ImEnd));

    public static SyntheticTokenizer Create(int vocabSize)
    {
        int minimum = 256 + SpecialTokenContents.Count;
        if (vocabSize < minimum)
        {
            throw new ModelMakingException($"vocab_size {vocabSize} is too small for a byte-level tokenizer (at least {minimum})");
        }
        var vocab = new List<string>(vocabSize);
        for (int b = 0; b < 256; b++)
        {
            vocab.Add(ByteLevelAlphabet.Symbol((byte)b).ToString());
        }

        var merges = new List<(string, string)>();
        int mergeCount = vocabSize - minimum;
        int spaceWords = mergeCount / 2;
        int capitalWords = mergeCount * 15 / 100;
        AddFamily(["Ġ"], LowerLetters + UpperLetters, spaceWords);
        AddFamily(UpperLetters.Select(c => c.ToString()).ToList(), LowerLetters, capitalWords);
        AddFamily(LowerLetters.Select(c => c.ToString()).ToList(), LowerLetters, mergeCount - spaceWords - capitalWords);

        // A family grows its roots one letter at a time (the first from firstLetters, then
        // lower-case), level by level: level n holds n-symbol strings, each a level n-1 string
        // plus a letter, so every merge's parts exist before it. A level is visited in a fixed
        // pseudo-random order (a stride coprime to its size), so a level filled only in part
        // still spreads over all of its prefixes.
        void AddFamily(List<string> roots, string firstLetters, int budget)
        {
            var previous = roots;
            string letters = firstLetters;
            int added = 0;
            while (added < budget)
            {
                long candidates = (long)previous.Count * letters.Length;
                long stride = CoprimeStride(candidates);
                var level = new List<string>();
                for (long k = 0; k < candidates && added < budget; k++, added++)
                {
                    long index = (long)((UInt128)k * (ulong)stride % (ulong)candidates);
                    string left = previous[(int)(index / letters.Length)];
                    string right = letters[(int)(index % letters.Length)].ToString();
                    merges.Add((left, right));
                    vocab.Add(left + right);
                    level.Add(left + right);
                }
                previous = level;
                letters = LowerLetters;
            }
        }
        return new SyntheticTokenizer(vocab, merges, vocab.Count);
    }

    /// <summary>A stride near size/φ that shares no factor with size, so k·stride mod size visits every index once.</summary>
    private static long CoprimeStride(long size)
    {
        long stride = Math.Max(1, (long)(size * 0.6180339887498949)) | 1;
        while (BigInteger.GreatestCommonDivisor(stride, size) != 1)
        {
            stride += 2;
        }
        return stride;
    }

    private static readonly JsonWriterOptions _writerOptions = new()
    {
        Indented = true,
        // Byte-level symbols are written as themselves (as transformers writes them), not as \u escapes.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>tokenizer.json in the layout of the `tokenizers` library.</summary>
    public void WriteTokenizerJson(Stream destination)
    {
        using var json = new Utf8JsonWriter(destination, _writerOptions);
        json.WriteStartObject();
        json.WriteString("version", "1.0");
        json.WriteNull("truncation");
        json.WriteNull("padding");
        json.WriteStartArray("added_tokens");
        foreach (string content in SpecialTokenContents)
        {
            json.WriteStartObject();
            json.WriteNumber("id", SpecialId(content));
            json.WriteString("content", content);
            json.WriteBoolean("single_word", false);
            json.WriteBoolean("lstrip", false);
            json.WriteBoolean("rstrip", false);
            json.WriteBoolean("normalized", false);
            json.WriteBoolean("special", true);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteNull("normalizer");
        WriteByteLevel(json, "pre_tokenizer", addPrefixSpace: false, trimOffsets: true);
        WriteByteLevel(json, "post_processor", addPrefixSpace: false, trimOffsets: false);
        WriteByteLevel(json, "decoder", addPrefixSpace: true, trimOffsets: true);
        json.WriteStartObject("model");
        json.WriteString("type", "BPE");
        json.WriteNull("dropout");
        json.WriteNull("unk_token");
        json.WriteNull("continuing_subword_prefix");
        json.WriteNull("end_of_word_suffix");
        json.WriteBoolean("fuse_unk", false);
        json.WriteBoolean("byte_fallback", false);
        json.WriteBoolean("ignore_merges", false);
        json.WriteStartObject("vocab");
        for (int id = 0; id < Vocab.Count; id++)
        {
            json.WriteNumber(Vocab[id], id);
        }
        json.WriteEndObject();
        // "left right" strings: byte-level symbols never contain a space, and every tokenizers
        // release (and transformers' slow tokenizers) reads this form.
        json.WriteStartArray("merges");
        foreach (var (left, right) in Merges)
        {
            json.WriteStringValue(left + " " + right);
        }
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteByteLevel(Utf8JsonWriter json, string name, bool addPrefixSpace, bool trimOffsets)
    {
        json.WriteStartObject(name);
        json.WriteString("type", "ByteLevel");
        json.WriteBoolean("add_prefix_space", addPrefixSpace);
        json.WriteBoolean("trim_offsets", trimOffsets);
        json.WriteBoolean("use_regex", true);
        json.WriteEndObject();
    }

    /// <summary>tokenizer_config.json: specials, ChatML chat template, bos/eos matching <see cref="TokenIds"/>.</summary>
    public string TokenizerConfigJson(int modelMaxLength)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, _writerOptions))
        {
            json.WriteStartObject();
            json.WriteBoolean("add_bos_token", false);
            json.WriteBoolean("add_eos_token", false);
            json.WriteBoolean("add_prefix_space", false);
            json.WriteStartObject("added_tokens_decoder");
            foreach (string content in SpecialTokenContents)
            {
                json.WriteStartObject(SpecialId(content).ToString(System.Globalization.CultureInfo.InvariantCulture));
                json.WriteString("content", content);
                json.WriteBoolean("lstrip", false);
                json.WriteBoolean("normalized", false);
                json.WriteBoolean("rstrip", false);
                json.WriteBoolean("single_word", false);
                json.WriteBoolean("special", true);
                json.WriteEndObject();
            }
            json.WriteEndObject();
            json.WriteStartArray("additional_special_tokens");
            json.WriteStringValue(ImStart);
            json.WriteStringValue(ImEnd);
            json.WriteEndArray();
            json.WriteString("bos_token", EndOfText);
            json.WriteString("chat_template", ChatMlTemplate);
            json.WriteBoolean("clean_up_tokenization_spaces", false);
            json.WriteString("eos_token", ImEnd);
            json.WriteNumber("model_max_length", modelMaxLength);
            json.WriteString("pad_token", EndOfText);
            json.WriteString("tokenizer_class", "PreTrainedTokenizerFast");
            json.WriteNull("unk_token");
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }
}
