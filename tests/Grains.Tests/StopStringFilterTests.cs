using OrleansLlm.Grains.Sessions;

namespace OrleansLlm.Grains.Tests;

public sealed class StopStringFilterTests
{
    [Fact]
    public void Text_that_may_start_a_stop_string_waits_and_the_stop_string_is_cut()
    {
        var filter = new StopStringFilter(["</end>"]);
        Assert.Equal("hello ", filter.Push("hello </"));
        Assert.False(filter.Stopped);
        Assert.Equal("", filter.Push("en"));
        Assert.Equal("", filter.Push("d> never sent"));
        Assert.True(filter.Stopped);
        Assert.Equal("", filter.Push("more"));
        Assert.Equal("", filter.Flush());
    }

    [Fact]
    public void A_held_back_prefix_that_turns_out_not_to_stop_is_sent_later()
    {
        var filter = new StopStringFilter(["STOP"]);
        Assert.Equal("a ", filter.Push("a ST"));
        Assert.Equal("STx ", filter.Push("x "));
        Assert.Equal("", filter.Push("S"));
        Assert.Equal("S", filter.Flush());
        Assert.False(filter.Stopped);
    }

    [Fact]
    public void The_earliest_of_several_stop_strings_wins()
    {
        var filter = new StopStringFilter(["zz", "b"]);
        Assert.Equal("a", filter.Push("abzz"));
        Assert.True(filter.Stopped);
    }

    [Fact]
    public void Without_stop_strings_text_passes_at_once()
    {
        var filter = new StopStringFilter([]);
        Assert.Equal("anything", filter.Push("anything"));
        Assert.Equal("", filter.Flush());
    }
}
