namespace SyscallTools.Core.Cpu;

/// <summary>
/// Encodes GDT and IDT entries (SDM Vol. 3A §3.4.5, §6.11, §6.14.1, §7.2.3), so machine set-up code writes
/// descriptors the way an operating system does rather than poking segment caches.
/// </summary>
public static class DescriptorBuilder
{
    /// <summary>A flat code segment: 64-bit (L=1) or 32-bit (D=1), execute/read, accessed.</summary>
    public static ulong Code(int dpl, bool longMode) =>
        Cpu.MakeDescriptor(0, 0xFFFFF, 0xB, s: true, dpl, present: true, l: longMode, d: !longMode, g: true);

    /// <summary>A flat 4 GiB writable data segment, accessed.</summary>
    public static ulong Data(int dpl) =>
        Cpu.MakeDescriptor(0, 0xFFFFF, 0x3, s: true, dpl, present: true, l: false, d: true, g: true);

    /// <summary>A 32-bit available TSS descriptor (type 9).</summary>
    public static ulong Tss32(uint baseAddr, uint limit) =>
        Cpu.MakeDescriptor(baseAddr, limit, 0x9, s: false, 0, present: true, l: false, d: false, g: false);

    /// <summary>A 64-bit available TSS descriptor: two GDT slots, the second holding base[63:32].</summary>
    public static (ulong Low, ulong High) Tss64(ulong baseAddr, uint limit) =>
        (Cpu.MakeDescriptor((uint)baseAddr, limit, 0x9, s: false, 0, present: true, l: false, d: false, g: false), baseAddr >> 32);

    /// <summary>A 32-bit interrupt (type 0xE) or trap (type 0xF) gate.</summary>
    public static ulong Gate32(ushort selector, uint offset, int dpl, bool trap) =>
        (offset & 0xFFFF) | ((ulong)selector << 16) | ((ulong)(trap ? 0xF : 0xE) << 40) | ((ulong)(dpl & 3) << 45)
        | (1UL << 47) | ((ulong)(offset >> 16) << 48);

    /// <summary>A 64-bit interrupt or trap gate: 16 bytes, with an optional IST index.</summary>
    public static (ulong Low, ulong High) Gate64(ushort selector, ulong offset, int dpl, bool trap, int ist = 0) =>
        ((offset & 0xFFFF) | ((ulong)selector << 16) | ((ulong)(ist & 7) << 32) | ((ulong)(trap ? 0xF : 0xE) << 40)
         | ((ulong)(dpl & 3) << 45) | (1UL << 47) | (((offset >> 16) & 0xFFFF) << 48), offset >> 32);
}
