namespace SyscallTools.Core.Cpu;

/// <summary>Exception vectors (SDM Vol. 3A Table 6-1).</summary>
public static class Vector
{
    public const byte DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8,
        TS = 10, NP = 11, SS = 12, GP = 13, PF = 14, MF = 16, AC = 17, MC = 18, XM = 19, CP = 21;

    public static string Mnemonic(byte vector) => vector switch
    {
        DE => "#DE", DB => "#DB", NMI => "NMI", BP => "#BP", OF => "#OF", BR => "#BR", UD => "#UD", NM => "#NM",
        DF => "#DF", TS => "#TS", NP => "#NP", SS => "#SS", GP => "#GP", PF => "#PF", MF => "#MF", AC => "#AC",
        MC => "#MC", XM => "#XM", CP => "#CP", _ => $"INT 0x{vector:x2}",
    };

    /// <summary>Exceptions that push an error code (SDM Vol. 3A §6.13).</summary>
    public static bool HasErrorCode(int vector) => vector is DF or TS or NP or SS or GP or PF or AC or CP;

    /// <summary>Traps report the address of the next instruction; faults the address of the faulting one.</summary>
    public static bool IsTrap(byte vector) => vector is DB or BP or OF;
}

/// <summary>
/// An architectural exception raised by an instruction, as a value: the vector, its error code, CR2 for
/// #PF, where it happened, and — for #UD — whether it is an emulator gap rather than the architecture.
/// </summary>
public sealed record CpuFault
{
    public required byte Vector { get; init; }
    public uint ErrorCode { get; init; }
    public bool HasErrorCode { get; init; }
    /// <summary>The faulting linear address (#PF only).</summary>
    public ulong? Cr2 { get; init; }
    /// <summary>RIP of the instruction that raised it (filled in by the interpreter).</summary>
    public ulong Rip { get; init; }
    /// <summary>CPL when it was raised.</summary>
    public int Cpl { get; init; }
    /// <summary>Why, in a sentence: which check of which instruction.</summary>
    public string Reason { get; init; } = "";
    /// <summary>Set when the instruction decoded fine but this model does not implement it.</summary>
    public string? NotModelled { get; init; }

    public string Mnemonic => Core.Cpu.Vector.Mnemonic(Vector);

    public override string ToString()
    {
        var s = HasErrorCode ? $"{Mnemonic}(0x{ErrorCode:x})" : Mnemonic;
        if (Cr2 is ulong cr2) s += $" cr2=0x{cr2:x}";
        s += $" at 0x{Rip:x} cpl={Cpl}";
        if (NotModelled is not null) s += $" [not modelled: {NotModelled}]";
        if (Reason.Length > 0) s += ": " + Reason;
        return s;
    }
}

/// <summary>
/// Carries a <see cref="CpuFault"/> out of an instruction's semantics to the interpreter loop, which
/// delivers it through the IDT. It never escapes the CPU: callers see faults as results.
/// </summary>
internal sealed class CpuFaultException(CpuFault fault) : Exception(fault.ToString())
{
    public CpuFault Fault { get; } = fault;

    public static CpuFaultException Gp(uint error, string reason) => new(new CpuFault { Vector = Vector.GP, ErrorCode = error, HasErrorCode = true, Reason = reason });
    public static CpuFaultException Ss(uint error, string reason) => new(new CpuFault { Vector = Vector.SS, ErrorCode = error, HasErrorCode = true, Reason = reason });
    public static CpuFaultException Np(uint error, string reason) => new(new CpuFault { Vector = Vector.NP, ErrorCode = error, HasErrorCode = true, Reason = reason });
    public static CpuFaultException Ts(uint error, string reason) => new(new CpuFault { Vector = Vector.TS, ErrorCode = error, HasErrorCode = true, Reason = reason });
    public static CpuFaultException Ud(string reason) => new(new CpuFault { Vector = Vector.UD, Reason = reason });
    public static CpuFaultException Nm(string reason) => new(new CpuFault { Vector = Vector.NM, Reason = reason });
    public static CpuFaultException De(string reason) => new(new CpuFault { Vector = Vector.DE, Reason = reason });
    public static CpuFaultException NotModelled(string what) => new(new CpuFault { Vector = Vector.UD, NotModelled = what, Reason = $"{what} is not modelled by this emulator" });
    public static CpuFaultException Pf(ulong address, uint error, string reason) => new(new CpuFault { Vector = Vector.PF, ErrorCode = error, HasErrorCode = true, Cr2 = address, Reason = reason });
}
