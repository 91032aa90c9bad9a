using SyscallTools.Core.Cpu;

namespace SyscallTools.Core.Host;

/// <summary>One compared observable, or a scenario that could not run here (then <see cref="SkipReason"/> says why).</summary>
public sealed record HostKernelComparison
{
    public required string Scenario { get; init; }
    public required string Field { get; init; }
    public string? Host { get; init; }
    public string? Emulated { get; init; }
    /// <summary>Why the scenario did not run on this host, or null.</summary>
    public string? SkipReason { get; init; }
    public bool Skipped => SkipReason is not null;
    public bool Agree => !Skipped && Host == Emulated;
}

/// <summary>Runs scenarios on the host kernel and in the emulator and lines up their observables.</summary>
public static class HostComparison
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The comparison rows of one scenario: every field either side produced, in the host's order, then any only the
    /// emulator produced. A field only one side has is a disagreement ("(absent)" on the other).
    /// </summary>
    public static IReadOnlyList<HostKernelComparison> Compare(HostScenario scenario, CpuVendor? vendor = null, byte[]? hostVdso = null,
        string model = "linux-6.18", TimeSpan? timeout = null)
    {
        if (scenario.CannotRunOnHost is string why)
            return [new HostKernelComparison { Scenario = scenario.Name, Field = "(scenario)", SkipReason = why }];
        var v = vendor ?? HostCapabilities.Vendor;
        if (v is null)
            return [new HostKernelComparison { Scenario = scenario.Name, Field = "(scenario)", SkipReason = $"the host CPU vendor '{HostCapabilities.VendorString}' has no emulator profile" }];
        var probe = scenario.Probe;
        var host = HostProbeRunner.Run(probe, scenario.Tracer?.Invoke(), timeout ?? DefaultTimeout);
        var emu = EmulatedProbeRunner.Run(probe, scenario.Tracer?.Invoke(), v.Value, model, hostVdso);
        var h = scenario.Observables(host);
        var e = scenario.Observables(emu);
        var rows = new List<HostKernelComparison>();
        var emuByField = new Dictionary<string, string>();
        foreach (var (f, val) in e) emuByField.TryAdd(f, val);
        var seen = new HashSet<string>();
        foreach (var (f, val) in h)
        {
            if (!seen.Add(f)) continue;
            rows.Add(new HostKernelComparison { Scenario = scenario.Name, Field = f, Host = val, Emulated = emuByField.GetValueOrDefault(f, "(absent)") });
        }
        foreach (var (f, val) in e)
            if (seen.Add(f)) rows.Add(new HostKernelComparison { Scenario = scenario.Name, Field = f, Host = "(absent)", Emulated = val });
        return rows;
    }

    /// <summary>
    /// The host's own 32-bit vDSO image, dumped by a probe from AT_SYSINFO_EHDR (through the end of its section
    /// headers), or null with the reason.
    /// </summary>
    public static (byte[]? Image, string? Why) DumpHostVdso(TimeSpan? timeout = null)
    {
        if (HostCapabilities.CannotRun(32) is string why) return (null, why);
        var run = HostProbeRunner.Run(VdsoDumpProbe(), null, timeout ?? DefaultTimeout);
        if (run.Error is not null) return (null, run.Error);
        if (run.ExitStatus != 0 || run.Stdout.Length < 52) return (null, $"the dump probe ended with {run.Ending} after {run.Stdout.Length} bytes");
        return (run.Stdout, null);
    }

    /// <summary>A 32-bit probe that writes its own vDSO image to stdout.</summary>
    public static ProbeProgram VdsoDumpProbe()
    {
        var b = new ProbeBuilder("vdso-dump-32", 32).RawOutput();
        b.Asm($"mov esi, [0x{b.Slot("aux.vdso"):x}]");
        b.Asm("test esi, esi").Asm("jz finish");
        b.Asm("mov ecx, esi");
        b.Asm("mov edx, [esi+32]");                 // e_shoff
        b.Asm("movzx eax, word ptr [esi+46]");      // e_shentsize
        b.Asm("movzx ebx, word ptr [esi+48]");      // e_shnum
        b.Asm("imul eax, ebx");
        b.Asm("add edx, eax");
        b.Asm("mov ebx, 1").Asm("mov eax, 4").Asm("int 0x80");
        return b.Asm("jmp finish").Build();
    }
}

/// <summary>A scenario as a listing shows it.</summary>
public sealed record HostScenarioInfo(string Name, int Bitness, bool Traced, string Description)
{
    public static HostScenarioInfo Of(HostScenario s) => new(s.Name, s.Bitness, s.Tracer is not null, s.Description);
}
