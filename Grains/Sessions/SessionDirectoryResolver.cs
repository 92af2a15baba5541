using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Orleans.GrainDirectory;
using Orleans.Metadata;
using Orleans.Runtime;
using Orleans.Runtime.GrainDirectory;

namespace OrleansLlm.Grains.Sessions;

/// <summary>
/// Puts session grains in the "sessions" grain directory when one is registered (Redis, in a
/// cluster), and in the default directory otherwise (the one-process mode): one attribute could
/// not say both.
/// </summary>
public sealed class SessionDirectoryResolver(IServiceProvider services) : IGrainDirectoryResolver
{
    private static readonly GrainType s_sessionType = GrainType.Create("session");

    public bool TryResolveGrainDirectory(GrainType grainType, GrainProperties? properties, [NotNullWhen(true)] out IGrainDirectory? grainDirectory)
    {
        grainDirectory = grainType.Equals(s_sessionType) ? services.GetKeyedService<IGrainDirectory>(PlatformNames.SessionDirectory) : null;
        return grainDirectory is not null;
    }
}
