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
    public static IReadOnlyList<(string Method, int Bitness)> Methods { get; } =
        [("int80", 32), ("vdso", 32), ("sysenter", 32), ("syscall", 32), ("syscall", 64), ("int80", 64)];

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
        switch (method)
        {
            case "int80": b.Asm("int 0x80"); break;
            case "vdso": b.Asm($"call dword ptr [0x{b.Slot("aux.sysinfo"):x}]"); break;
            case "sysenter": b.Asm("call raw_sysenter"); break;
            case "syscall" when bits == 32: b.Asm("call raw_syscall"); break;
            default: b.Asm("syscall"); break;
        }
        b.Asm($"dec {counter}").Asm("jnz loop_top").Asm("jmp finish");
        if (method == "sysenter") b.Asm("raw_sysenter:").Asm("push ecx").Asm("push edx").Asm("push ebp").Asm("mov ebp, esp").Asm("sysenter").Asm("ud2");
        if (method == "syscall" && bits == 32)
            b.Asm("raw_syscall:").Asm("push ecx").Asm("push edx").Asm("push ebp").Asm("mov ebp, ecx").Asm("syscall").Asm("pop ebp").Asm("pop edx").Asm("pop ecx").Asm("ret");
        return b.Build();
    }
}
