using System.Collections.Concurrent;
using System.Diagnostics;

namespace OrleansLlm.Runtime;

/// <summary>
/// This process's view of the cluster: the last membership snapshot read from the store, minus
/// silos this process found unreachable in the last moments (local suspicion).
/// </summary>
internal sealed class MembershipView(TimeSpan deathTimeout)
{
    private readonly ConcurrentDictionary<string, long> _suspectedUntil = new();
    private volatile Snapshot _snapshot = new([], [], new Dictionary<string, SiloRecord>(), []);

    public event Action? Changed;

    /// <summary>Raised with the id of a silo that was declared dead or removed from membership.</summary>
    public event Action<string>? SiloLeft;

    public IReadOnlyList<SiloRecord> LiveSilos
    {
        get
        {
            var snapshot = _snapshot;
            if (_suspectedUntil.IsEmpty)
            {
                return snapshot.Live;
            }
            var now = Stopwatch.GetTimestamp();
            return [.. snapshot.Live.Where(s => !_suspectedUntil.TryGetValue(s.Id, out var until) || until < now)];
        }
    }

    public IReadOnlyList<SiloRecord> AllSilos => _snapshot.All;

    public SiloRecord? Find(string siloId) => _snapshot.ById.GetValueOrDefault(siloId);

    public bool IsLive(string siloId)
    {
        var snapshot = _snapshot;
        return snapshot.LiveIds.Contains(siloId)
            && (_suspectedUntil.IsEmpty || !_suspectedUntil.TryGetValue(siloId, out var until) || until < Stopwatch.GetTimestamp());
    }

    public void Update(MembershipSnapshot membership)
    {
        var live = membership.Silos
            .Where(s => s.Status == SiloStatus.Active && membership.StoreTimeMs - s.HeartbeatMs <= deathTimeout.TotalMilliseconds)
            .OrderBy(s => s.Id, StringComparer.Ordinal)
            .ToList();
        var previous = _snapshot;
        _snapshot = new Snapshot(live, [.. live.Select(s => s.Id)], membership.Silos.ToDictionary(s => s.Id), membership.Silos);
        var now = Stopwatch.GetTimestamp();
        foreach (var (id, until) in _suspectedUntil)
        {
            if (until < now)
            {
                _suspectedUntil.TryRemove(id, out _);
            }
        }
        foreach (var (id, before) in previous.ById)
        {
            if (before.Status != SiloStatus.Dead && (!_snapshot.ById.TryGetValue(id, out var after) || after.Status == SiloStatus.Dead))
            {
                SiloLeft?.Invoke(id);
            }
        }
        if (!previous.Live.Select(s => s.Id).SequenceEqual(live.Select(s => s.Id)))
        {
            Changed?.Invoke();
        }
    }

    /// <summary>Leaves a silo out of placement for <paramref name="duration"/> after this process failed to reach it.</summary>
    public void Suspect(string siloId, TimeSpan duration)
    {
        _suspectedUntil[siloId] = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        Changed?.Invoke();
    }

    private sealed record Snapshot(List<SiloRecord> Live, HashSet<string> LiveIds, Dictionary<string, SiloRecord> ById, IReadOnlyList<SiloRecord> All);
}
