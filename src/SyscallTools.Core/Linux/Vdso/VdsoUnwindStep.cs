namespace SyscallTools.Core.Linux.Vdso;

/// <summary>One register compared after unwinding: what the CFI recovered and what the caller had.</summary>
/// <param name="Checked">False when the CFI does not promise the value (ecx/edx where it records no rule).</param>
public sealed record VdsoRegisterCheck(string Name, uint? Recovered, uint Expected, bool Checked, bool Passed, string Rule)
{
    public override string ToString() =>
        $"{Name}={(Recovered is uint r ? $"0x{r:x8}" : "undefined")}{(Checked ? Passed ? "" : $" (expected 0x{Expected:x8})" : " (not checked)")}";
}

/// <summary>
/// One instruction of a vDSO system call, unwound with the image's CFI as an unwinder would at a single-step trap
/// there (selftest unwind_vdso): the row used, the CFA and return address recovered against the truth, and the
/// caller's registers.
/// </summary>
public sealed record VdsoUnwindStep
{
    public required int Step { get; init; }
    public required ulong Address { get; init; }
    public required string? Symbol { get; init; }
    public required string Disassembly { get; init; }
    /// <summary>The CFI row in force, as "CFA=esp+16 ecx=c-8 …", or null when no FDE covers the address.</summary>
    public string? CfiRow { get; init; }
    public uint? Cfa { get; init; }
    public required uint ExpectedCfa { get; init; }
    public uint? ReturnAddress { get; init; }
    public required uint ExpectedReturnAddress { get; init; }
    public IReadOnlyList<VdsoRegisterCheck> Registers { get; init; } = [];
    /// <summary>Kernel instructions run between this step and the next (0 unless this one entered the kernel).</summary>
    public long KernelInstructions { get; init; }
    /// <summary>Why unwinding failed, when it did (no FDE, unreadable memory…).</summary>
    public string? Error { get; init; }
    public required bool Passed { get; init; }

    /// <summary>What is wrong at this step, in words; empty when it passed.</summary>
    public string Mismatch =>
        Error ?? string.Join("; ", new[]
        {
            Cfa != ExpectedCfa ? $"CFA 0x{Cfa:x8} != 0x{ExpectedCfa:x8}" : null,
            ReturnAddress != ExpectedReturnAddress ? $"return address 0x{ReturnAddress:x8} != 0x{ExpectedReturnAddress:x8}" : null,
        }.Concat(Registers.Where(r => r.Checked && !r.Passed).Select(r => r.ToString())).Where(x => x is not null));
}

/// <summary>The whole run: every step, and how the call ended.</summary>
public sealed record VdsoUnwindReport(IReadOnlyList<VdsoUnwindStep> Steps, bool Completed, string Outcome, uint ReturnValue)
{
    public bool Passed => Completed && Steps.Count > 0 && Steps.All(s => s.Passed);
    /// <summary>The first step that failed, or null.</summary>
    public VdsoUnwindStep? FirstFailure => Steps.FirstOrDefault(s => !s.Passed);
}
