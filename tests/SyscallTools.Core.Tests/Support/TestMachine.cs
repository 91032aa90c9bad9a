using SyscallTools.Core.Cpu;
using SyscallTools.Core.Memory;

namespace SyscallTools.Core.Tests.Support;

using Cpu = SyscallTools.Core.Cpu.Cpu;

/// <summary>Where a test's CPU starts.</summary>
public enum TestMode { Long64, Compat, Legacy }

/// <summary>
/// Bare machines laid out with Linux's selector values (arch/x86/include/asm/segment.h): a 64-bit kernel
/// (GDT 0x10/0x18/0x23/0x2b/0x33, TSS 0x40) and a 32-bit kernel (0x60/0x68/0x73/0x7b, TSS 0x80). Every IDT
/// vector and every system-call MSR points at a HLT in kernel text, so a test runs one transition and
/// reads the state it produced. Addresses are fixed so test vectors can name them.
/// </summary>
public static class TestMachine
{
    public const ulong K64 = 0xFFFF_FFFF_8100_0000;
    public const ulong K32 = 0xC100_0000;
    public const ulong UserCode = 0x40_0000;
    public const ulong UserStackTop = 0x80_0000;
    public const ulong UserData = 0x60_0000;

    public static ulong KernelBase(TestMode m) => m == TestMode.Legacy ? K32 : K64;
    public static ulong Gdt(TestMode m) => KernelBase(m) + 0x1000;
    public static ulong Idt(TestMode m) => KernelBase(m) + 0x2000;
    public static ulong Tss(TestMode m) => KernelBase(m) + 0x3000;
    public static ulong KernelStackTop(TestMode m) => KernelBase(m) + 0x14000;
    /// <summary>Handler for vector v: HLT at KernelBase + 0x20000 + 16·v.</summary>
    public static ulong Handler(TestMode m, int vector) => KernelBase(m) + 0x20000 + (ulong)(16 * vector);
    public static ulong Lstar => K64 + 0x21000;
    public static ulong Cstar => K64 + 0x21100;
    public static ulong SysenterEip(TestMode m) => KernelBase(m) + 0x21200;
    /// <summary>STAR[31:0]: the legacy-mode SYSCALL target (32-bit kernel only).</summary>
    public static ulong LegacySyscallEip => K32 + 0x21300;
    /// <summary>Kernel text where tests place ring-0 instructions. Ring-0 compatibility-mode code (CS 0x08) can only
    /// reach the low 4 GiB, so it runs from a low supervisor-only area.</summary>
    public static ulong KernelCode(TestMode m) => m == TestMode.Compat ? LowKernel : KernelBase(m) + 0x30000;
    public const ulong LowKernel = 0x0200_0000;
    public const ulong Fmask = 0x47700;

    /// <summary>A machine in <paramref name="mode"/>, running user code at CPL 3 (or kernel code at CPL 0 with <paramref name="kernel"/>).</summary>
    public static Cpu Create(CpuProfile profile, TestMode mode, bool kernel = false)
    {
        var mem = new AddressSpace();
        var cpu = new Cpu(profile, mem) { DeliverFaults = false };
        ulong k = KernelBase(mode);
        mem.Map(k, 0x40000, PageFlags.KernelData);
        mem.Map(k + 0x20000, 0x20000, PageFlags.KernelCode);
        mem.Map(UserCode, 0x10000, PageFlags.UserCode);
        mem.Map(UserData, 0x10000, PageFlags.UserData);
        mem.Map(UserStackTop - 0x4000, 0x4000, PageFlags.UserData);
        // Every handler and entry point is a HLT.
        for (int v = 0; v < 256; v++) mem.WriteBytes(Handler(mode, v), [0xF4]);
        foreach (var a in new[] { SysenterEip(mode), Lstar, Cstar, LegacySyscallEip })
            if (a >= k && a < k + 0x40000) mem.WriteBytes(a, [0xF4]);

        bool lm = mode != TestMode.Legacy;
        ulong gdt = Gdt(mode);
        if (lm)
        {
            mem.WriteUInt64(gdt + 0x08, DescriptorBuilder.Code(0, longMode: false)); // __KERNEL32_CS
            mem.WriteUInt64(gdt + 0x10, DescriptorBuilder.Code(0, longMode: true));  // __KERNEL_CS
            mem.WriteUInt64(gdt + 0x18, DescriptorBuilder.Data(0));                  // __KERNEL_DS
            mem.WriteUInt64(gdt + 0x20, DescriptorBuilder.Code(3, longMode: false)); // __USER32_CS
            mem.WriteUInt64(gdt + 0x28, DescriptorBuilder.Data(3));                  // __USER_DS
            mem.WriteUInt64(gdt + 0x30, DescriptorBuilder.Code(3, longMode: true));  // __USER_CS
            var (lo, hi) = DescriptorBuilder.Tss64(Tss(mode), 0x67);
            mem.WriteUInt64(gdt + 0x40, lo);
            mem.WriteUInt64(gdt + 0x48, hi);
            cpu.Gdtr = new DescriptorTable(gdt, 0x7F);
            for (int v = 0; v < 256; v++)
            {
                int dpl = v is 0x80 or 3 or 4 ? 3 : 0;
                var (glo, ghi) = DescriptorBuilder.Gate64(0x10, Handler(mode, v), dpl, trap: false);
                mem.WriteUInt64(Idt(mode) + (ulong)(16 * v), glo);
                mem.WriteUInt64(Idt(mode) + (ulong)(16 * v) + 8, ghi);
            }
            cpu.Idtr = new DescriptorTable(Idt(mode), 0xFFF);
            mem.WriteUInt64(Tss(mode) + 4, KernelStackTop(mode)); // RSP0
            cpu.Tr = Cpu.ParseDescriptor(0x40, lo) with { Base = Tss(mode), Type = 0xB };
            cpu.EnterLongMode();
            cpu.Efer |= Msr.EferSce | Msr.EferNxe;
            cpu.WriteMsr(Msr.Star, (0x23UL << 48) | (0x10UL << 32));
            cpu.WriteMsr(Msr.Lstar, Lstar);
            cpu.WriteMsr(Msr.Cstar, Cstar);
            cpu.WriteMsr(Msr.Fmask, Fmask);
            cpu.WriteMsr(Msr.SysenterCs, 0x10);
            cpu.WriteMsr(Msr.SysenterEsp, KernelStackTop(mode));
            cpu.WriteMsr(Msr.SysenterEip, SysenterEip(mode));
        }
        else
        {
            mem.WriteUInt64(gdt + 0x60, DescriptorBuilder.Code(0, longMode: false)); // __KERNEL_CS
            mem.WriteUInt64(gdt + 0x68, DescriptorBuilder.Data(0));                  // __KERNEL_DS
            mem.WriteUInt64(gdt + 0x70, DescriptorBuilder.Code(3, longMode: false)); // __USER_CS
            mem.WriteUInt64(gdt + 0x78, DescriptorBuilder.Data(3));                  // __USER_DS
            ulong tss = DescriptorBuilder.Tss32((uint)Tss(mode), 0x67);
            mem.WriteUInt64(gdt + 0x80, tss);
            cpu.Gdtr = new DescriptorTable(gdt, 0xFF);
            for (int v = 0; v < 256; v++)
            {
                int dpl = v is 0x80 or 3 or 4 ? 3 : 0;
                mem.WriteUInt64(Idt(mode) + (ulong)(8 * v), DescriptorBuilder.Gate32(0x60, (uint)Handler(mode, v), dpl, trap: false));
            }
            cpu.Idtr = new DescriptorTable(Idt(mode), 0x7FF);
            mem.WriteUInt32(Tss(mode) + 4, (uint)KernelStackTop(mode)); // ESP0
            mem.WriteUInt32(Tss(mode) + 8, 0x68);                        // SS0
            cpu.Tr = Cpu.ParseDescriptor(0x80, tss) with { Type = 0xB };
            cpu.Cr0 |= ControlBits.Cr0Pg;
            cpu.Efer = Msr.EferSce | Msr.EferNxe;
            cpu.WriteMsr(Msr.Star, (0x70UL << 48) | (0x60UL << 32) | LegacySyscallEip);
            cpu.WriteMsr(Msr.SysenterCs, 0x60);
            cpu.WriteMsr(Msr.SysenterEsp, KernelStackTop(mode));
            cpu.WriteMsr(Msr.SysenterEip, SysenterEip(mode));
        }

        ushort cs, ss;
        if (kernel)
        {
            (cs, ss) = mode switch { TestMode.Long64 => ((ushort)0x10, (ushort)0x18), TestMode.Compat => ((ushort)0x08, (ushort)0x18), _ => ((ushort)0x60, (ushort)0x68) };
            cpu.Rip = KernelCode(mode);
            cpu[Gpr.Rsp] = mode == TestMode.Compat ? LowKernel + 0x8000 - 0x100 : KernelStackTop(mode) - 0x100;
            if (mode == TestMode.Compat)
            {
                mem.Map(LowKernel, 0x1000, PageFlags.KernelCode);
                mem.Map(LowKernel + 0x1000, 0x7000, PageFlags.KernelData);
            }
        }
        else
        {
            (cs, ss) = mode switch { TestMode.Long64 => ((ushort)0x33, (ushort)0x2b), TestMode.Compat => ((ushort)0x23, (ushort)0x2b), _ => ((ushort)0x73, (ushort)0x7b) };
            cpu.Rip = UserCode;
            cpu[Gpr.Rsp] = UserStackTop - 0x800;
        }
        LoadSelector(cpu, SegReg.CS, cs);
        LoadSelector(cpu, SegReg.SS, ss);
        ushort ds = mode == TestMode.Legacy ? (ushort)(kernel ? 0x68 : 0x7b) : (ushort)(kernel ? 0x18 : 0x2b);
        foreach (var s in new[] { SegReg.DS, SegReg.ES }) LoadSelector(cpu, s, ds);
        foreach (var s in new[] { SegReg.FS, SegReg.GS }) cpu.SetSegment(s, new Segment { Unusable = true });
        cpu.Rflags = 0x202;
        return cpu;
    }

    /// <summary>Loads a segment register from the GDT the way a far transfer would have left it.</summary>
    public static void LoadSelector(Cpu cpu, SegReg reg, ushort sel)
    {
        var d = Cpu.ParseDescriptor(sel, cpu.Memory.ReadUInt64(cpu.Gdtr.Base + (ulong)(sel & ~7)));
        cpu.SetSegment(reg, d);
    }

    /// <summary>Writes code at the current RIP.</summary>
    public static void Code(Cpu cpu, params byte[] bytes) => cpu.Memory.WriteBytes(cpu.Rip, bytes);

    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", ""));
}
