using System.Reflection;
using System.Text.Json;

namespace R2ps.Testing;

/// <summary>
/// Finds the project's ../shared/ folder (RFC vectors, interop material): R2PS_SHARED if set, otherwise the folder beside
/// the repository root that the build recorded in the test assembly.
/// </summary>
public static class SharedFiles
{
    private static readonly Lazy<string> Root = new(FindRoot);

    public static string Path(string relative) => System.IO.Path.Combine(Root.Value, relative);

    public static byte[] ReadBytes(string relative) => File.ReadAllBytes(Path(relative));

    public static string ReadText(string relative) => File.ReadAllText(Path(relative));

    public static JsonDocument ReadJson(string relative) => JsonDocument.Parse(ReadText(relative));

    private static string FindRoot()
    {
        var fromEnv = Environment.GetEnvironmentVariable("R2PS_SHARED");
        if (!string.IsNullOrEmpty(fromEnv)) return Check(fromEnv);

        var repositoryRoot = Assembly.GetEntryAssembly()?.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "RepositoryRoot")?.Value;
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            repositoryRoot ??= assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .FirstOrDefault(a => a.Key == "RepositoryRoot")?.Value;
        }
        if (repositoryRoot is null)
            throw new InvalidOperationException("No RepositoryRoot metadata in the test assembly; set R2PS_SHARED to the shared/ folder.");
        return Check(System.IO.Path.GetFullPath(System.IO.Path.Combine(repositoryRoot, "..", "shared")));
    }

    private static string Check(string path) =>
        Directory.Exists(System.IO.Path.Combine(path, "vectors"))
            ? path
            : throw new DirectoryNotFoundException($"'{path}' is not the shared/ folder (no vectors/ inside); set R2PS_SHARED.");
}
