using SyscallTools.Core.Elf.Cfi;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Vdso;

namespace SyscallTools;

/// <summary>
/// One step of Test-VdsoUnwind: an instruction inside the vDSO, the CFI row in force there, and one frame unwound
/// with it — the CFA and return address recovered against the truth, and the caller's eax..ebp as recovered.
/// </summary>
public sealed class VdsoUnwindRow
{
    internal VdsoUnwindRow(VdsoUnwindStep s, EmuCpu cpu)
    {
        Step = s.Step; Address = s.Address; Symbol = s.Symbol; Disassembly = s.Disassembly; Cfi = s.CfiRow;
        Cfa = s.Cfa; ExpectedCfa = s.ExpectedCfa; ReturnAddress = s.ReturnAddress; ExpectedReturnAddress = s.ExpectedReturnAddress;
        uint? R(string n) => s.Registers.FirstOrDefault(r => r.Name == n)?.Recovered;
        Eax = R("eax"); Ecx = R("ecx"); Edx = R("edx"); Ebx = R("ebx"); Esi = R("esi"); Edi = R("edi"); Ebp = R("ebp");
        Registers = s.Registers; KernelInstructions = s.KernelInstructions; Mismatch = s.Mismatch; Passed = s.Passed;
        Kernel = cpu.Kernel; Vendor = cpu.Vendor;
    }

    public int Step { get; }
    public ulong Address { get; }
    public string? Symbol { get; }
    public string Disassembly { get; }
    /// <summary>The CFI row in force, e.g. "0xb7ff0403: CFA=esp+16 ecx=c-8 edx=c-12 ebp=c-16 eip=c-4".</summary>
    public string? Cfi { get; }
    public uint? Cfa { get; }
    public uint ExpectedCfa { get; }
    public uint? ReturnAddress { get; }
    public uint ExpectedReturnAddress { get; }
    public uint? Eax { get; }
    public uint? Ecx { get; }
    public uint? Edx { get; }
    public uint? Ebx { get; }
    public uint? Esi { get; }
    public uint? Edi { get; }
    public uint? Ebp { get; }
    /// <summary>Each register's recovered value, expected value, rule and whether it was checked.</summary>
    public IReadOnlyList<VdsoRegisterCheck> Registers { get; }
    /// <summary>Kernel instructions stepped over after this instruction (it entered the kernel).</summary>
    public long KernelInstructions { get; }
    /// <summary>What is wrong, in words; empty when the step passed.</summary>
    public string Mismatch { get; }
    public bool Passed { get; }
    public string Kernel { get; }
    public string Vendor { get; }
}

/// <summary>One instruction of the mapped vDSO (alternatives applied) with the CFI row in force there.</summary>
public sealed record VdsoInstruction(ulong Address, string? Symbol, string Bytes, string Disassembly, string? Cfa, string? Rules);

/// <summary>A symbol of the mapped vDSO, at its mapped address.</summary>
public sealed record VdsoSymbol(string Name, ulong Address, int Offset);

/// <summary>
/// Get-EmuVdso's view of the task's 32-bit vDSO: where it is, which image, its symbols, the landing pad, its code as
/// mapped (alternatives applied) with the CFI row at every instruction, and the CFI table of every FDE.
/// </summary>
public sealed class VdsoDetail
{
    public required ulong Base { get; init; }
    public required int Size { get; init; }
    public required string Flavor { get; init; }
    public required string EntryVariant { get; init; }
    public string? SourcePath { get; init; }
    public required ulong KernelVsyscall { get; init; }
    public ulong? LandingPad { get; init; }
    public ulong? SysenterReturn { get; init; }
    public required IReadOnlyList<VdsoSymbol> Symbols { get; init; }
    public required IReadOnlyList<VdsoInstruction> Instructions { get; init; }
    /// <summary>Every CFI row of every FDE, as mapped (".eh_frame" of the image).</summary>
    public required IReadOnlyList<CfiRow> Cfi { get; init; }
    /// <summary>Why the CFI could not be read, when it could not.</summary>
    public string? CfiError { get; init; }
    public IReadOnlyList<string> Notes { get; init; } = [];
}
