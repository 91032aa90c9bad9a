using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux.Boot;
using SyscallTools.Core.Linux.Entry;
using SyscallTools.Core.Linux.Vdso;
using SyscallTools.Core.Memory;

namespace SyscallTools.Core.Linux;

using CpuCore = SyscallTools.Core.Cpu.Cpu;

/// <summary>Boot: descriptor tables, the TSS, the system-call MSRs (syscall_init), and the task as exec leaves it.</summary>
public sealed partial class LinuxMachine
{
    /// <summary>FMASK as syscall_init programs it in 4.x–6.x: TF | DF | IF | IOPL | AC | NT.</summary>
    public const ulong SyscallMask = 0x47700;

    private void Boot64()
    {
        ulong gdt = Layout.Gdt;
        Memory.WriteUInt64(gdt + Selectors.X64.Kernel32Cs, DescriptorBuilder.Code(0, longMode: false));
        Memory.WriteUInt64(gdt + Selectors.X64.KernelCs, DescriptorBuilder.Code(0, longMode: true));
        Memory.WriteUInt64(gdt + Selectors.X64.KernelDs, DescriptorBuilder.Data(0));
        Memory.WriteUInt64(gdt + (Selectors.X64.User32Cs & ~3UL), DescriptorBuilder.Code(3, longMode: false));
        Memory.WriteUInt64(gdt + (Selectors.X64.UserDs & ~3UL), DescriptorBuilder.Data(3));
        Memory.WriteUInt64(gdt + (Selectors.X64.UserCs & ~3UL), DescriptorBuilder.Code(3, longMode: true));
        var (tssLo, tssHi) = DescriptorBuilder.Tss64(Layout.Tss, 0x67);
        Memory.WriteUInt64(gdt + Selectors.X64.Tss, tssLo);
        Memory.WriteUInt64(gdt + Selectors.X64.Tss + 8, tssHi);
        Cpu.Gdtr = new DescriptorTable(gdt, 16 * 8 - 1);

        // IDT: exceptions to their idtentry stubs (#DF on IST1), INT 0x80 a DPL-3 interrupt gate, #BP and #OF DPL 3.
        for (int v = 0; v < 32; v++)
        {
            int dpl = v is 3 or 4 ? 3 : 0;
            // #DF runs on IST1; #DB, NMI and #MC on IST2 (they can arrive on any stack, e.g. right after SYSENTER).
            int ist = v == 8 ? 1 : v is 1 or 2 or 18 ? 2 : 0;
            var (lo, hi) = DescriptorBuilder.Gate64(Selectors.X64.KernelCs, Stubs[$"asm_exc_{v}"], dpl, trap: false, ist: ist);
            Memory.WriteUInt64(Layout.Idt + (ulong)(16 * v), lo);
            Memory.WriteUInt64(Layout.Idt + (ulong)(16 * v) + 8, hi);
        }
        ulong int80 = Stubs.Symbols.TryGetValue("asm_int80_emulation", out var emu) ? emu : Stubs["entry_INT80_compat"];
        var (ilo, ihi) = DescriptorBuilder.Gate64(Selectors.X64.KernelCs, int80, 3, trap: false);
        Memory.WriteUInt64(Layout.Idt + 16 * 0x80, ilo);
        Memory.WriteUInt64(Layout.Idt + 16 * 0x80 + 8, ihi);
        Cpu.Idtr = new DescriptorTable(Layout.Idt, 256 * 16 - 1);

        // TSS: RSP0 is the task's kernel stack; IST1 the double-fault stack.
        Memory.WriteUInt64(Layout.Tss + 4, Layout.StackTop);
        Memory.WriteUInt64(Layout.Tss + 0x24, Layout.DoubleFaultStackTop);
        Memory.WriteUInt64(Layout.Tss + 0x2C, Layout.DoubleFaultStackTop - 0x1000);
        Cpu.Tr = CpuCore.ParseDescriptor(Selectors.X64.Tss, tssLo) with { Base = Layout.Tss, Type = 0xB };
        Memory.WriteUInt64(Layout.PerCpu + KernelLayout.PerCpuTopOfStack, Layout.StackTop);

        Cpu.EnterLongMode();
        InitFpu();
        Cpu.Efer |= Msr.EferSce | Msr.EferNxe;
        // syscall_init(): STAR, LSTAR, CSTAR, FMASK and the SYSENTER MSRs (programmed on AMD too, where SYSENTER #UDs).
        Cpu.WriteMsr(Msr.Star, ((ulong)Selectors.X64.User32Cs << 48) | ((ulong)Selectors.X64.KernelCs << 32));
        Cpu.WriteMsr(Msr.Lstar, Stubs["entry_SYSCALL_64"]);
        Cpu.WriteMsr(Msr.Cstar, Stubs["entry_SYSCALL_compat"]);
        Cpu.WriteMsr(Msr.Fmask, SyscallMask);
        Cpu.WriteMsr(Msr.SysenterCs, Selectors.X64.KernelCs);
        // The per-CPU entry stack (the entry code switches to the task stack at once).
        Cpu.WriteMsr(Msr.SysenterEsp, Layout.PerCpu + 0x800);
        Cpu.WriteMsr(Msr.SysenterEip, Stubs["entry_SYSENTER_compat"]);
        // User GS is live; the kernel's per-CPU base waits in KERNEL_GS_BASE for SWAPGS.
        Cpu.WriteMsr(Msr.KernelGsBase, Layout.PerCpu);
        // init_espfix_ap(): the writable frame page and this CPU's espfix_stack / espfix_waddr.
        Memory.Map(Layout.EspfixPage, 0x1000, PageFlags.KernelData);
        Memory.WriteUInt64(Layout.PerCpu + KernelLayout.PerCpuEspfixStack, KernelLayout.EspfixBase + KernelLayout.EspfixSlot);
        Memory.WriteUInt64(Layout.PerCpu + KernelLayout.PerCpuEspfixWaddr, Layout.EspfixPage + KernelLayout.EspfixSlot);
    }

    private void Boot32()
    {
        ulong gdt = Layout.Gdt;
        Memory.WriteUInt64(gdt + Selectors.X86.KernelCs, DescriptorBuilder.Code(0, longMode: false));
        Memory.WriteUInt64(gdt + Selectors.X86.KernelDs, DescriptorBuilder.Data(0));
        Memory.WriteUInt64(gdt + (Selectors.X86.UserCs & ~3UL), DescriptorBuilder.Code(3, longMode: false));
        Memory.WriteUInt64(gdt + (Selectors.X86.UserDs & ~3UL), DescriptorBuilder.Data(3));
        ulong tss = DescriptorBuilder.Tss32((uint)Layout.Tss, 0x67);
        Memory.WriteUInt64(gdt + Selectors.X86.Tss, tss);
        // __ESPFIX_SS: a flat 32-bit kernel data segment whose base the exit rewrites for each return to an LDT stack.
        Memory.WriteUInt64(gdt + Selectors.X86.EspfixSs, DescriptorBuilder.Data(0));
        // __KERNEL_PERCPU: FS in the kernel points at the per-CPU area.
        Memory.WriteUInt64(gdt + Selectors.X86.KernelPercpu,
            CpuCore.MakeDescriptor((uint)Layout.PerCpu, 0xFFFFF, 0x3, s: true, 0, present: true, l: false, d: true, g: true));
        Cpu.Gdtr = new DescriptorTable(gdt, 32 * 8 - 1);

        for (int v = 0; v < 32; v++)
        {
            int dpl = v is 3 or 4 ? 3 : 0;
            Memory.WriteUInt64(Layout.Idt + (ulong)(8 * v), DescriptorBuilder.Gate32(Selectors.X86.KernelCs, (uint)Stubs[$"asm_exc_{v}"], dpl, trap: false));
        }
        // INT 0x80 on 32-bit kernels is a trap gate ("system gate"): interrupts stay on.
        Memory.WriteUInt64(Layout.Idt + 8 * 0x80, DescriptorBuilder.Gate32(Selectors.X86.KernelCs, (uint)Stubs["entry_INT80_32"], 3, trap: true));
        Cpu.Idtr = new DescriptorTable(Layout.Idt, 256 * 8 - 1);

        Memory.WriteUInt32(Layout.Tss + 4, (uint)Layout.StackTop);       // ESP0
        Memory.WriteUInt32(Layout.Tss + 8, Selectors.X86.KernelDs);      // SS0
        Cpu.Tr = CpuCore.ParseDescriptor(Selectors.X86.Tss, tss) with { Type = 0xB };
        Memory.WriteUInt64(Layout.PerCpu + KernelLayout.PerCpuTopOfStack, Layout.StackTop);

        Cpu.Cr0 |= ControlBits.Cr0Pg;
        InitFpu();
        Cpu.Efer = Msr.EferNxe;
        // 32-bit kernels use SYSENTER (when the CPU has SEP) and never SYSCALL. SYSENTER_ESP points at the TSS's sp0
        // slot area; the entry loads the real stack from there.
        if (Features.Contains("X86_FEATURE_SEP"))
        {
            Cpu.WriteMsr(Msr.SysenterCs, Selectors.X86.KernelCs);
            Cpu.WriteMsr(Msr.SysenterEsp, Layout.PerCpu + 0x100);
            Cpu.WriteMsr(Msr.SysenterEip, Stubs["entry_SYSENTER_32"]);
        }
    }

    /// <summary>The task as exec leaves it: mappings, the vDSO, an initial stack with auxv, GPRs zero, EFLAGS 0x202.</summary>
    private void SetUpTask()
    {
        bool is32 = Task.Bitness == 32;
        ulong text = is32 ? Layout.UserText : 0x40_0000;
        ulong stackTop = is32 ? Layout.UserStackTop : 0x7FFF_FFFF_E000;
        Memory.Map(text, 0x10000, PageFlags.UserCode);
        Memory.Map(is32 ? Layout.UserData : 0x60_0000, 0x10000, PageFlags.UserData);
        Memory.Map(stackTop - Layout.UserStackSize, Layout.UserStackSize, PageFlags.UserData);
        Task.BrkStart = Task.Brk = is32 ? Layout.UserBrk : 0x100_0000;
        UserText = text;
        UserDataArea = is32 ? Layout.UserData : 0x60_0000;

        if (is32)
        {
            Vdso = VdsoBuilder.Build(Model, KernelBits, Features);
        }
        if (is32 && MapVdso)
        {
            Task.VdsoBase = Layout.Vdso32;
            Memory.Map(Task.VdsoBase, VdsoBuilder.ImageSize, PageFlags.UserCode);
            Memory.WriteBytes(Task.VdsoBase, Vdso!.Bytes);
            foreach (var (name, off) in Vdso.Symbols) SetSymbol(Task.VdsoBase + (ulong)off, $"[vdso] {name}");
            // Pre-rewrite kernels return SYSENTER to thread_info->sysenter_return.
            if (Vdso.SysenterReturn is int sr) Memory.WriteUInt64(Layout.ThreadInfo + KernelLayout.TiSysenterReturn, Task.VdsoBase + (ulong)sr);
        }

        // The initial stack: argc, argv[0], NULL, envp NULL, auxv (AT_SYSINFO and AT_SYSINFO_EHDR for 32-bit tasks), AT_NULL.
        int w = is32 ? 4 : 8;
        var words = new List<ulong> { 1, stackTop - 0x100, 0, 0 };
        if (is32 && KernelVsyscall != 0)
        {
            words.AddRange([AtSysinfo, KernelVsyscall, AtSysinfoEhdr, Task.VdsoBase]);
        }
        words.AddRange([AtPagesz, 4096, AtNull, 0]);
        ulong sp = (stackTop - 0x200) & ~0xFUL;
        for (int i = 0; i < words.Count; i++)
        {
            if (w == 4) Memory.WriteUInt32(sp + (ulong)(4 * i), (uint)words[i]); else Memory.WriteUInt64(sp + (ulong)(8 * i), words[i]);
        }
        Memory.WriteBytes(stackTop - 0x100, "syscalltools\0"u8);
        InitialStackPointer = sp;

        StartThread(text, sp);
    }

    /// <summary>
    /// The registers exec leaves (ELF_PLAT_INIT / elf_common_init zero every GPR; start_thread sets IP, SP, the user
    /// selectors and EFLAGS = X86_EFLAGS_IF, read back as 0x202 with the reserved bit 1).
    /// </summary>
    private void StartThread(ulong ip, ulong sp)
    {
        bool is32 = Task.Bitness == 32;
        for (int r = 0; r < 16; r++) Cpu[(Gpr)r] = 0;
        Cpu[Gpr.Rsp] = sp;
        Cpu.Rip = ip;
        ushort cs = KernelBits == 64 ? (is32 ? Selectors.X64.User32Cs : Selectors.X64.UserCs) : Selectors.X86.UserCs;
        ushort ds = KernelBits == 64 ? Selectors.X64.UserDs : Selectors.X86.UserDs;
        LoadUserSegment(SegReg.CS, cs);
        LoadUserSegment(SegReg.SS, ds);
        LoadUserSegment(SegReg.DS, is32 ? ds : (ushort)0);
        LoadUserSegment(SegReg.ES, is32 ? ds : (ushort)0);
        LoadUserSegment(SegReg.FS, 0);
        LoadUserSegment(SegReg.GS, 0);
        Cpu.Rflags = 0x202;
    }

    public const ulong AtNull = 0, AtPagesz = 6, AtSysinfo = 32, AtSysinfoEhdr = 33;

    /// <summary>Where the task's code starts, where its data area is, and the stack pointer exec left.</summary>
    public ulong UserText { get; private set; }
    public ulong UserDataArea { get; private set; }
    public ulong InitialStackPointer { get; private set; }

    private void LoadUserSegment(SegReg reg, ushort sel)
    {
        if ((sel & ~3) == 0)
        {
            Cpu.SetSegment(reg, new Segment { Selector = 0, Unusable = true });
            return;
        }
        var d = CpuCore.ParseDescriptor(sel, Memory.ReadUInt64(Cpu.Gdtr.Base + (ulong)(sel & ~7)));
        Cpu.SetSegment(reg, d);
    }
}
