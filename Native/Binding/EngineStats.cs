namespace OrleansLlm.Native;

/// <summary>Engine counters as of its last step.</summary>
public sealed record EngineStats(
    int BlocksTotal,
    int BlocksUsed,
    int BlocksCached,
    int BlockSizeTokens,
    int RunningCount,
    int WaitingCount,
    long PrefixQueryTokens,
    long PrefixHitTokens,
    long PreemptionCount,
    long KvSlotsAllocated,
    long KvTokensStored,
    long StepCount,
    long GeneratedTokenCount,
    int MaxModelLength)
{
    /// <summary>Share of allocated K/V slots not holding a token (partly filled blocks).</summary>
    public double KvWasteRatio => KvSlotsAllocated == 0 ? 0.0 : (double)(KvSlotsAllocated - KvTokensStored) / KvSlotsAllocated;
}

/// <summary>What one engine step did, and how long the native step took.</summary>
public readonly record struct EngineStepInfo(int ScheduledTokens, int ScheduledRequests, int Outputs, TimeSpan Duration)
{
    /// <summary>Every scheduled request computed exactly one token: no prompt in the batch.</summary>
    public bool IsDecodeOnly => ScheduledTokens > 0 && ScheduledTokens == ScheduledRequests;
}
