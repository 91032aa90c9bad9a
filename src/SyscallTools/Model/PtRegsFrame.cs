using SyscallTools.Core.Linux;

namespace SyscallTools;

/// <summary>One field of a pt_regs copy: kernel name, offset, group and value.</summary>
public sealed record PtRegsValue(string Name, int Offset, string Group, ulong Value);

/// <summary>
/// A copy of struct pt_regs as it sits on the emulated kernel stack. The derived types have one property per kernel
/// field, named as arch/x86/include/asm/ptrace.h names it (r15 … orig_ax … ss), so <c>$regs.orig_ax</c> reads like C.
/// </summary>
public abstract class PtRegsFrame
{
    private protected PtRegsFrame(ulong address, int kernelBits, IReadOnlyList<(string Name, ulong Value)> values)
    {
        Address = address;
        KernelBits = kernelBits;
        var layout = kernelBits == 64 ? PtRegs.Layout64 : PtRegs.Layout32;
        var byName = values.ToDictionary(v => v.Name, v => v.Value);
        Fields = layout.Select(f => new PtRegsValue(f.Name, f.Offset, f.Group, byName[f.Name])).ToList();
    }

    /// <summary>Where the structure starts on the kernel stack.</summary>
    public ulong Address { get; }
    public int KernelBits { get; }
    /// <summary>Every field in struct order, with its group.</summary>
    public IReadOnlyList<PtRegsValue> Fields { get; }

    protected ulong Get(string name) => Fields.First(f => f.Name == name).Value;

    public static PtRegsFrame From(PtRegs regs) => regs.KernelBits == 64
        ? new PtRegs64Frame(regs.Address, regs.Snapshot())
        : new PtRegs32Frame(regs.Address, regs.Snapshot());
}

// Lower-case property names on purpose: they are the kernel's field names.
#pragma warning disable IDE1006

/// <summary>struct pt_regs of a 64-bit kernel.</summary>
public sealed class PtRegs64Frame : PtRegsFrame
{
    internal PtRegs64Frame(ulong address, IReadOnlyList<(string Name, ulong Value)> values) : base(address, 64, values) { }
    public ulong r15 => Get("r15");
    public ulong r14 => Get("r14");
    public ulong r13 => Get("r13");
    public ulong r12 => Get("r12");
    public ulong bp => Get("bp");
    public ulong bx => Get("bx");
    public ulong r11 => Get("r11");
    public ulong r10 => Get("r10");
    public ulong r9 => Get("r9");
    public ulong r8 => Get("r8");
    public ulong ax => Get("ax");
    public ulong cx => Get("cx");
    public ulong dx => Get("dx");
    public ulong si => Get("si");
    public ulong di => Get("di");
    public ulong orig_ax => Get("orig_ax");
    public ulong ip => Get("ip");
    public ulong cs => Get("cs");
    public ulong flags => Get("flags");
    public ulong sp => Get("sp");
    public ulong ss => Get("ss");
}

/// <summary>struct pt_regs of a 32-bit kernel.</summary>
public sealed class PtRegs32Frame : PtRegsFrame
{
    internal PtRegs32Frame(ulong address, IReadOnlyList<(string Name, ulong Value)> values) : base(address, 32, values) { }
    public ulong bx => Get("bx");
    public ulong cx => Get("cx");
    public ulong dx => Get("dx");
    public ulong si => Get("si");
    public ulong di => Get("di");
    public ulong bp => Get("bp");
    public ulong ax => Get("ax");
    public ulong ds => Get("ds");
    public ulong es => Get("es");
    public ulong fs => Get("fs");
    public ulong gs => Get("gs");
    public ulong orig_ax => Get("orig_ax");
    public ulong ip => Get("ip");
    public ulong cs => Get("cs");
    public ulong flags => Get("flags");
    public ulong sp => Get("sp");
    public ulong ss => Get("ss");
}
#pragma warning restore IDE1006
