using System.Reflection;
using System.Xml.Linq;

namespace R2ps.Compose.Tests;

/// <summary>
/// The production libraries never depend on R2ps.Tools (private brokers, SoftHSM2 set-up, process launchers,
/// benchmarks), directly or through another project: read from the .csproj files, so it holds before anything runs.
/// </summary>
public class ProjectReferenceTests
{
    private const string Tools = "R2ps.Tools";

    /// <summary>What is deployed or shipped as a library; the CLI and the test projects may use the tooling.</summary>
    public static readonly TheoryData<string> ProductionProjects =
    [
        "R2ps.Bff", "R2ps.Worker", "R2ps.Service", "R2ps.Store", "R2ps.Sessions", "R2ps.Hsm", "R2ps.Crypto", "R2ps.Protocol",
        "R2ps.Messaging", "R2ps.Wallet", "R2ps.Contracts",
    ];

    private static readonly string Source = Path.Combine(RepositoryRoot(), "src");

    [Theory]
    [MemberData(nameof(ProductionProjects))]
    public void A_production_project_does_not_reference_the_tools_even_indirectly(string project)
    {
        var closure = ReferenceClosure(project);

        Assert.DoesNotContain(Tools, closure);
    }

    [Fact]
    public void The_check_sees_a_reference_to_the_tools_where_there_is_one()
    {
        // The CLI hosts the demo's worker processes and bench e2e: if this fails, the closure reads nothing.
        Assert.Contains(Tools, ReferenceClosure("R2ps.Cli"));
    }

    [Fact]
    public void The_check_sees_an_indirect_reference()
    {
        // The worker reaches the wire model only through R2ps.Messaging and R2ps.Service.
        Assert.DoesNotContain("R2ps.Protocol", DirectReferences("R2ps.Worker"));
        Assert.Contains("R2ps.Protocol", ReferenceClosure("R2ps.Worker"));
    }

    /// <summary>Every project <paramref name="project"/> depends on, through any chain of ProjectReferences.</summary>
    private static HashSet<string> ReferenceClosure(string project)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>(DirectReferences(project));
        while (pending.TryPop(out var next))
        {
            if (seen.Add(next))
                foreach (var reference in DirectReferences(next)) pending.Push(reference);
        }

        return seen;
    }

    /// <summary>The project names (file names without .csproj) of its ProjectReference items.</summary>
    private static IReadOnlyList<string> DirectReferences(string project)
    {
        var file = Path.Combine(Source, project, project + ".csproj");
        Assert.True(File.Exists(file), $"{file} does not exist.");
        return [.. XDocument.Load(file).Descendants()
            .Where(e => e.Name.LocalName == "ProjectReference")
            .Select(e => (string?)e.Attribute("Include") ?? throw new InvalidDataException($"{file}: a ProjectReference without Include."))
            .Select(include => Path.GetFileNameWithoutExtension(include.Replace('\\', Path.DirectorySeparatorChar)))];
    }

    private static string RepositoryRoot() =>
        typeof(ProjectReferenceTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!;
}
