using SyscallTools.Fuzz;
using Xunit;
using Xunit.Abstractions;

namespace SyscallTools.Core.Tests.FuzzTests;

/// <summary>
/// CI's short fuzz pass: every fuzzer of tests/fuzz, a fixed seed, a few seconds. A failure prints the reproducer
/// (build.ps1 -Task Fuzz -Seed … -Fuzzer … -Index …). The long passes are build.ps1 -Task Fuzz -Minutes N.
/// </summary>
public class FuzzPassTests(ITestOutputHelper output)
{
    public const ulong CiSeed = 20261128;

    [Fact]
    public void AShortSeededFuzzPassFindsNothing()
    {
        var report = FuzzRunner.Run(new FuzzOptions { Seed = CiSeed, Count = 80 });
        output.WriteLine(report.Summary());
        Assert.True(report.Passed, report.Summary() + "\n" + string.Join("\n", report.Failures));
        Assert.All(report.Tried, kv => Assert.Equal(80, kv.Value));
        Assert.Equal(FuzzRunner.All.Count, report.Tried.Count);
        Assert.True(report.DeterminismChecks > 0);
    }

    [Fact]
    public void AnInputIsReproducibleFromItsSeedAndIndex()
    {
        // The reproducer's promise: the same (seed, fuzzer, index) is the same input, whatever ran before it.
        Assert.Equal(FuzzRunner.InputSeed(7, "syscall", 41), FuzzRunner.InputSeed(7, "syscall", 41));
        Assert.NotEqual(FuzzRunner.InputSeed(7, "syscall", 41), FuzzRunner.InputSeed(7, "syscall", 42));
        Assert.NotEqual(FuzzRunner.InputSeed(7, "syscall", 41), FuzzRunner.InputSeed(8, "syscall", 41));
        var one = FuzzRunner.Run(new FuzzOptions { Seed = 7, Only = ["user-code"], Index = 41 });
        var again = FuzzRunner.Run(new FuzzOptions { Seed = 7, Only = ["user-code"], Index = 41 });
        Assert.Equal(one.Seen, again.Seen);
        Assert.Equal(1, one.Tried["user-code"]);
    }
}
