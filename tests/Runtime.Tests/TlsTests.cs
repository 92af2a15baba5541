using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using OrleansLlm.Runtime.TestSilo;

namespace OrleansLlm.Runtime.Tests;

/// <summary>Silos serving https with a certificate the cluster options trust.</summary>
public sealed class TlsTests
{
    [Fact]
    public async Task Silos_call_each_other_over_tls()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        using var certificate = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
        var thumbprint = certificate.Thumbprint;
        var options = new ClusterOptions
        {
            ClusterId = "tls",
            HeartbeatPeriod = TimeSpan.FromMilliseconds(200),
            CallTimeout = TimeSpan.FromSeconds(10),
            RemoteCertificateValidation = (_, cert, _, _) => cert is X509Certificate2 c && c.Thumbprint == thumbprint,
        };
        var backend = ClusterBackend.InMemory();
        var oracle = new InMemoryActivationOracle();
        await using var a = new Silo(new SiloOptions { Name = "a", TlsCertificate = certificate }, options, TestGrains.Registry(oracle), backend);
        await using var b = new Silo(new SiloOptions { Name = "b", TlsCertificate = certificate }, options, TestGrains.Registry(oracle), backend);
        await a.StartAsync();
        await b.StartAsync();
        Assert.StartsWith("https://", b.Address);
        await ProcessFaultTests.WaitUntilAsync(() => a.LiveSiloCount == 2, "silo a sees b");
        Assert.Equal("b", await a.GrainFactory.GetGrain<IPinnedGrain>("b").HostSilo());
    }
}
