using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux.Boot;
using SyscallTools.Core.Memory;
using CpuCore = SyscallTools.Core.Cpu.Cpu;

namespace SyscallTools.Core.Linux;

/// <summary>
/// The task's local descriptor table (arch/x86/kernel/ldt.c): modify_ldt() writes entries, and the kernel installs
/// the table with an LDT descriptor in the GDT (GDT_ENTRY_LDT) and LLDT, sized to the highest entry written.
/// </summary>
public sealed partial class LinuxMachine
{
    /// <summary>mm->context.ldt->nr_entries: 0 until the first write.</summary>
    public int LdtEntries { get; private set; }

    /// <summary>The LDT's descriptors as they are now (read_ldt()).</summary>
    internal byte[] ReadLdt() => LdtEntries == 0 ? [] : Memory.ReadBytes(Layout.Ldt, 8 * LdtEntries);

    /// <summary>
    /// write_ldt()'s install step: entry <paramref name="index"/> becomes <paramref name="descriptor"/>, the table grows
    /// to cover it (never shrinks), and the GDT's LDT descriptor and LDTR follow (load_mm_ldt → set_ldt → lldt).
    /// </summary>
    internal void WriteLdtEntry(int index, ulong descriptor)
    {
        if (LdtEntries == 0) Memory.Map(Layout.Ldt, KernelLayout.LdtSize, PageFlags.KernelData);
        Memory.WriteUInt64(Layout.Ldt + (ulong)(8 * index), descriptor);
        LdtEntries = Math.Max(LdtEntries, index + 1);
        uint limit = (uint)(8 * LdtEntries - 1);
        ulong low = CpuCore.MakeDescriptor((uint)Layout.Ldt, limit, 0x2, s: false, 0, present: true, l: false, d: false, g: false);
        ulong sel = Layout.LdtSelector;
        Memory.WriteUInt64(Cpu.Gdtr.Base + sel, low);
        if (KernelBits == 64) Memory.WriteUInt64(Cpu.Gdtr.Base + sel + 8, Layout.Ldt >> 32);
        Cpu.Ldtr = CpuCore.ParseDescriptor(Layout.LdtSelector, low) with { Base = Layout.Ldt };
    }
}
