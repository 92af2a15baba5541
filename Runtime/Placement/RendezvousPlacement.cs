using System.Text;

namespace OrleansLlm.Runtime;

/// <summary>
/// Default placement: highest-random-weight (rendezvous) hashing of (grain, silo name) over the
/// live silos, so a membership change moves only the grains of the silos that came or went.
/// </summary>
public sealed class RendezvousPlacement : IPlacementDirector
{
    public static RendezvousPlacement Instance { get; } = new();

    public SiloRecord PlaceGrain(PlacementContext context)
    {
        if (context.LiveSilos.Count == 0)
        {
            throw new NoSiloAvailableException($"no live silo to place {context.GrainId}");
        }
        var grainHash = Hash(context.GrainId.ToString(), 0xcbf29ce484222325UL);
        SiloRecord? best = null;
        var bestScore = 0UL;
        foreach (var silo in context.LiveSilos)
        {
            var score = Mix(Hash(silo.Name, grainHash));
            if (best is null || score > bestScore || (score == bestScore && string.CompareOrdinal(silo.Name, best.Name) < 0))
            {
                best = silo;
                bestScore = score;
            }
        }
        return best!;
    }

    // FNV-1a over UTF-8, seeded; then a splitmix64 finaliser so nearby inputs spread over 64 bits
    private static ulong Hash(string text, ulong seed)
    {
        var hash = seed;
        Span<byte> buffer = stackalloc byte[256];
        var bytes = Encoding.UTF8.GetByteCount(text) <= buffer.Length ? buffer[..Encoding.UTF8.GetBytes(text, buffer)] : Encoding.UTF8.GetBytes(text);
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * 0x100000001b3UL;
        }
        return hash;
    }

    private static ulong Mix(ulong x)
    {
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9UL;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebUL;
        return x ^ (x >> 31);
    }
}
