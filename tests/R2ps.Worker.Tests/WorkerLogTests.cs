using R2ps.Tools.Processes;

namespace R2ps.Worker.Tests;

/// <summary>What <c>bench e2e</c> prints of a worker's log when a run was answered SERVER_ERROR.</summary>
public class WorkerLogTests
{
    [Fact]
    public void Faults_are_the_fail_and_crit_entries_with_their_indented_lines_and_nothing_else()
    {
        var output = string.Join('\n',
            "info: R2ps.Worker[0]",
            "      started",
            "fail: R2ps.Service.R2psRequestProcessor[1]",
            "      R2PS request failed unexpectedly (type hsm_ecdsa)",
            "      System.InvalidOperationException: boom\r",
            "warn: MassTransit.ReceiveTransport[0]",
            "      R-RETRY …",
            "crit: Host[2]",
            "      the end");

        Assert.Equal(
            string.Concat(
                "w1: fail: R2ps.Service.R2psRequestProcessor[1]" + Environment.NewLine,
                "w1:       R2PS request failed unexpectedly (type hsm_ecdsa)" + Environment.NewLine,
                "w1:       System.InvalidOperationException: boom" + Environment.NewLine,
                "w1: crit: Host[2]" + Environment.NewLine,
                "w1:       the end" + Environment.NewLine),
            WorkerLog.Faults("w1", output));
        Assert.Empty(WorkerLog.Faults("w1", "info: quiet\n      nothing failed"));
    }
}
