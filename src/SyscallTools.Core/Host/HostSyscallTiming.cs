using System.Diagnostics;

namespace SyscallTools.Core.Host;

/// <summary>One measured entry method: the real round-trip cost of getpid on this machine.</summary>
public sealed record HostSyscallCost
{
    public required string Method { get; init; }
    public required int Bitness { get; init; }
    public required long Iterations { get; init; }
    /// <summary>Nanoseconds per call (the loop's time less an empty run's, over the iterations); null when skipped.</summary>
    public double? NsPerCall { get; init; }
    public string Vendor { get; init; } = HostCapabilities.VendorString;
    /// <summary>Why the method was not measured here (not Linux x86-64, no IA32 emulation, the entry faults on this CPU).</summary>
    public string? SkipReason { get; init; }
}

/// <summary>
/// Measures system-call round trips on the host: a probe loops getpid through one entry method; the wall time of a run
/// with N iterations less the best of an empty run (process start and exit) gives ns per call. Best of three each.
/// </summary>
public static class HostSyscallTiming
{
    /// <summary>The methods, as (name, bitness): the same entry sequences the comparison scenarios use.</summary>
    public static IReadOnlyList<(string Method, int Bitness)> Methods => ProbeEntries.Methods;

    public static string Name(string method, int bits) => $"{method}-{bits}";

    public static HostSyscallCost Measure(string method, int bits, long iterations, int repeats = 3)
    {
        string name = Name(method, bits);
        if (HostCapabilities.CannotRun(bits) is string why) return new HostSyscallCost { Method = name, Bitness = bits, Iterations = iterations, SkipReason = why };
        var timeout = TimeSpan.FromSeconds(60);
        // One call first: an entry this CPU does not have (SYSENTER on AMD, 32-bit SYSCALL on Intel) dies of SIGILL.
        var once = HostProbeRunner.Run(LoopProbe(method, bits, 1), null, timeout);
        if (once.ExitStatus != 0)
            return new HostSyscallCost { Method = name, Bitness = bits, Iterations = iterations, SkipReason = $"the entry does not work on this CPU ({once.Ending})" };
        double Best(long n)
        {
            var probe = LoopProbe(method, bits, n);
            double best = double.MaxValue;
            for (int i = 0; i < repeats; i++)
            {
                var clock = Stopwatch.StartNew();
                var run = HostProbeRunner.Run(probe, null, timeout);
                double ns = clock.Elapsed.TotalNanoseconds;
                if (run.ExitStatus != 0) throw new InvalidOperationException($"the timing probe for {name} ended with {run.Ending}");
                best = Math.Min(best, ns);
            }
            return best;
        }
        double empty = Best(0), full = Best(iterations);
        return new HostSyscallCost { Method = name, Bitness = bits, Iterations = iterations, NsPerCall = Math.Max(0, full - empty) / iterations };
    }

    /// <summary>A probe that makes <paramref name="iterations"/> getpid calls through <paramref name="method"/> and exits.</summary>
    public static ProbeProgram LoopProbe(string method, int bits, long iterations)
    {
        var b = new ProbeBuilder($"loop-{method}-{bits}", bits);
        bool i386 = bits == 32 || method == "int80";
        // The counter lives in a register every entry preserves (esi / r12).
        string counter = bits == 32 ? "esi" : "r12";
        b.Asm($"mov {counter}, {iterations}");
        b.Asm($"test {counter}, {counter}").Asm("jz finish");
        b.Asm("loop_top:").Asm($"mov eax, {(i386 ? 20 : 39)}");
        ProbeEntries.EmitCall(b, method, bits);
        b.Asm($"dec {counter}").Asm("jnz loop_top").Asm("jmp finish");
        ProbeEntries.EmitRawEntries(b, method, bits);
        return b.Build();
    }
}
