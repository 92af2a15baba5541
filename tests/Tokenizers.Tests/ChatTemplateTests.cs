using System.Text.Json.Nodes;

namespace OrleansLlm.Tokenizers.Tests;

/// <summary>The Jinja subset, construct by construct; expected strings follow Jinja's documented semantics.</summary>
public sealed class ChatTemplateTests
{
    private static string Render(string template, string variablesJson = "{}")
    {
        var variables = JsonNode.Parse(variablesJson)!.AsObject().ToDictionary(p => p.Key, p => p.Value?.DeepClone());
        return ChatTemplate.Parse(template).Render(variables);
    }

    [Fact]
    public void For_loop_exposes_loop_variables_and_else()
    {
        const string template = "{% for x in items %}{{ loop.index }}/{{ loop.length }}:{{ x }}{% if not loop.last %},{% endif %}{% else %}empty{% endfor %}";
        Assert.Equal("1/3:a,2/3:b,3/3:c", Render(template, """{"items": ["a", "b", "c"]}"""));
        Assert.Equal("empty", Render(template, """{"items": []}"""));
    }

    [Fact]
    public void Set_inside_a_loop_does_not_leak_but_namespace_does()
    {
        const string template = "{% set n = 0 %}{% set ns = namespace(total=0) %}{% for x in [1, 2, 3] %}{% set n = n + x %}{% set ns.total = ns.total + x %}{% endfor %}{{ n }} {{ ns.total }}";
        Assert.Equal("0 6", Render(template));
    }

    [Fact]
    public void If_elif_else_and_tests()
    {
        const string template = "{% for v in values %}{% if v is none %}N{% elif v is string %}S{% elif v is number %}#{% elif v is defined %}D{% else %}U{% endif %}{% endfor %}{% if missing is not defined %}!{% endif %}";
        Assert.Equal("NS#D!", Render(template, """{"values": [null, "a", 1.5, true]}"""));
    }

    [Fact]
    public void Filters_and_string_methods()
    {
        Assert.Equal("HELLO|hello|5|x y|[1, 2]|{\"a\": \"é\"}", Render(
            "{{ s | trim | upper }}|{{ s.strip().lower() }}|{{ s | trim | length }}|{{ ['x', 'y'] | join(' ') }}|{{ [1, 2] | tojson }}|{{ obj | tojson }}",
            """{"s": "  Hello ", "obj": {"a": "é"}}"""));
        Assert.Equal("b-c|True|a,b|xyz", Render(
            "{{ 'a-b-c'.split('-', 1)[1] }}|{{ 'True' if 'abc'.startswith(('x', 'a')) else 'False' }}|{{ 'a b'.split() | join(',') }}|{{ '\\nxyz\\n'.strip('\\n') }}"));
        Assert.Equal("fallback|set", Render("{{ missing | default('fallback') }}|{{ present | default('x') }}", """{"present": "set"}"""));
    }

    [Fact]
    public void Slices_and_negative_indexes()
    {
        Assert.Equal("cba|bc|c|[2, 3]", Render("{{ 'abc'[::-1] }}|{{ 'abc'[1:] }}|{{ 'abc'[-1] }}|{{ items[1:] | tojson }}", """{"items": [1, 2, 3]}"""));
    }

    [Fact]
    public void Macros_take_positional_keyword_and_default_arguments()
    {
        const string template = "{% macro tag(name, value='none', sep=':') %}<{{ name }}{{ sep }}{{ value }}>{% endmacro %}{{ tag('a') }}{{ tag('b', 2) }}{{ tag('c', sep='=', value=3) }}";
        Assert.Equal("<a:none><b:2><c=3>", Render(template));
    }

    [Fact]
    public void Whitespace_control_and_trim_blocks()
    {
        const string template = "A\n  {%- if true -%}\n   B   \n{%- endif %}\n{% if true %}\nC\n{% endif %}\n";
        Assert.Equal("ABC\n", Render(template)); // trim_blocks drops the newline after "{%- endif %}"
    }

    [Fact]
    public void Dict_methods_and_iteration()
    {
        Assert.Equal("a=1;b=2;|2|yes", Render(
            "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}|{{ d.get('b') }}|{{ 'yes' if 'a' in d else 'no' }}",
            """{"d": {"a": 1, "b": 2}}"""));
    }

    [Fact]
    public void Variables_built_in_code_render_like_parsed_json()
    {
        var variables = new Dictionary<string, JsonNode?> { ["n"] = 5, ["f"] = 1.5, ["b"] = true, ["s"] = "x", ["none"] = null };
        Assert.Equal("6|3.0|true|x|yes", ChatTemplate.Parse("{{ n + 1 }}|{{ f * 2 }}|{{ b }}|{{ s }}|{{ 'yes' if none is none }}").Render(variables));
    }

    [Fact]
    public void Raise_exception_is_an_error_with_the_message()
    {
        var e = Assert.Throws<TokenizerException>(() => Render("{{ raise_exception('roles must alternate') }}"));
        Assert.Contains("roles must alternate", e.Message);
    }

    [Fact]
    public void Unsupported_statement_is_an_error_with_its_position()
    {
        var e = Assert.Throws<TokenizerException>(() => ChatTemplate.Parse("line one\n{% include 'x.j2' %}"));
        Assert.Contains("line 2, column 4", e.Message);
        Assert.Contains("include", e.Message);
    }

    [Fact]
    public void Unknown_filter_is_an_error_naming_it()
    {
        var e = Assert.Throws<TokenizerException>(() => Render("{{ 'x' | frobnicate }}"));
        Assert.Contains("frobnicate", e.Message);
    }

    [Fact]
    public void Unterminated_block_is_a_syntax_error()
    {
        Assert.Throws<TokenizerException>(() => ChatTemplate.Parse("{% for x in y %}no end"));
        Assert.Throws<TokenizerException>(() => ChatTemplate.Parse("{{ 'unterminated }}"));
    }
}
