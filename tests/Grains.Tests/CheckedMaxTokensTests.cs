using OrleansLlm.Grains.Sessions;

namespace OrleansLlm.Grains.Tests;

public sealed class CheckedMaxTokensTests
{
    private static TurnRequest Turn(int maxTokens, bool chat = true) => new()
    {
        Model = "m",
        Messages = chat ? [new ChatMessageRecord("user", "hi")] : null,
        Prompt = chat ? null : "hi",
        Sampling = new SamplingSettings { MaxTokens = maxTokens },
    };

    [Fact]
    public void Without_max_tokens_the_completion_gets_the_room_the_context_leaves()
    {
        Assert.Equal(24, TurnRunner.CheckedMaxTokens(Turn(0), 1000, 1024));
    }

    [Fact]
    public void A_request_that_fits_exactly_is_served_as_asked()
    {
        Assert.Equal(24, TurnRunner.CheckedMaxTokens(Turn(24), 1000, 1024));
    }

    [Fact]
    public void A_request_over_the_context_is_refused_naming_both_counts()
    {
        var e = Assert.Throws<InvalidTurnException>(() => TurnRunner.CheckedMaxTokens(Turn(25, chat: false), 1000, 1024));
        Assert.Equal("context_length_exceeded", e.Code);
        Assert.Equal("prompt", e.Param);
        Assert.Contains("1000 in the prompt, 25 for the completion", e.Message);
    }

    [Fact]
    public void A_prompt_that_fills_the_context_leaves_no_room_even_without_max_tokens()
    {
        var e = Assert.Throws<InvalidTurnException>(() => TurnRunner.CheckedMaxTokens(Turn(0), 1024, 1024));
        Assert.Equal("messages", e.Param);
        Assert.Equal(400, e.StatusCode);
    }
}
