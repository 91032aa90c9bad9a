namespace SyscallTools.Core.Linux.Boot;

/// <summary>
/// Where the model puts things. The values imitate Linux (kernel text at 0xffffffff81000000 on 64-bit kernels and
/// 0xc1000000 on 32-bit ones; user stacks below the kernel split) without claiming to be a real kernel's layout.
/// </summary>
public sealed record KernelLayout
{
    public required int KernelBits { get; init; }
    /// <summary>Entry stubs (supervisor, read + execute).</summary>
    public required ulong Text { get; init; }
    /// <summary>Addresses that stand for the kernel's C functions: reaching one calls the C# body.</summary>
    public required ulong Functions { get; init; }
    /// <summary>GDT, IDT, TSS, per-CPU area, syscall tables (supervisor, read + write, no execute).</summary>
    public required ulong Data { get; init; }
    /// <summary>The task's kernel stack: [StackBase, StackTop).</summary>
    public required ulong StackBase { get; init; }
    public required ulong StackTop { get; init; }
    /// <summary>A second stack for #DF (IST1 on 64-bit kernels).</summary>
    public required ulong DoubleFaultStackTop { get; init; }

    public ulong Gdt => Data;
    public ulong Idt => Data + 0x1000;
    public ulong Tss => Data + 0x2000;
    /// <summary>The per-CPU area: GS base after SWAPGS (64-bit), FS base (32-bit).</summary>
    public ulong PerCpu => Data + 0x3000;
    /// <summary>sys_call_table (64-bit ABI on a 64-bit kernel, i386 on a 32-bit one).</summary>
    public ulong SysCallTable => Data + 0x4000;
    /// <summary>ia32_sys_call_table (64-bit kernels only).</summary>
    public ulong Ia32SysCallTable => Data + 0x6000;
    /// <summary>thread_info of the one task: flags first, then sysenter_return (pre-rewrite kernels), status.</summary>
    public ulong ThreadInfo => Data + 0x8000;
    public const int DataSize = 0x9000;
    /// <summary>The task's LDT (mm->context.ldt), mapped on the first modify_ldt() write: LDT_ENTRIES (8192) x 8 bytes.</summary>
    public ulong Ldt => Data + 0x10000;
    public const int LdtSize = 8192 * 8;
    /// <summary>GDT_ENTRY_LDT: the LDT descriptor's selector (16 bytes at index 10 on 64-bit kernels, index 17 on 32-bit ones).</summary>
    public ushort LdtSelector => KernelBits == 64 ? (ushort)0x50 : (ushort)0x88;

    // Per-CPU offsets the stubs use.
    public const int PerCpuTopOfStack = 0x00;   // cpu_current_top_of_stack / tss.sp0
    public const int PerCpuRspScratch = 0x08;   // rsp_scratch
    public const int PerCpuCurrentTask = 0x10;
    public const int PerCpuEspfixStack = 0x18;  // espfix_stack: the read-only alias address, bits 31:16 clear
    public const int PerCpuEspfixWaddr = 0x20;  // espfix_waddr: the same slot through the writable mapping

    /// <summary>
    /// espfix64 (arch/x86/kernel/espfix_64.c): ESPFIX_BASE_ADDR, a PGD slot whose page tables map one page of IRET
    /// frames read-only at every base | (X &amp; 0xffff0000), and the writable page behind it. Returning to a 16-bit
    /// LDT stack, the kernel IRETs from the alias whose bits 31:16 are the user's, so ESP[31:16] come out right.
    /// </summary>
    public const ulong EspfixBase = 0xFFFF_FF00_0000_0000;
    public ulong EspfixPage => Data + 0xA000;
    /// <summary>Where in the page this CPU's 64-byte frame slot is.</summary>
    public const int EspfixSlot = 0xFC0;
    /// <summary>The read-only alias page an IRET to user RSP <paramref name="userSp"/> uses.</summary>
    public ulong EspfixBaseFor(ulong userSp) => EspfixBase | (userSp & 0xFFFF_0000);

    // thread_info offsets.
    public const int TiFlags = 0x00;
    public const int TiSysenterReturn = 0x08;
    public const int TiStatus = 0x10;

    /// <summary>The user-space layout.</summary>
    public ulong UserText => 0x0804_8000;
    public ulong UserData => 0x0806_0000;
    public ulong UserStackTop => 0xBFFF_0000;
    public ulong UserStackSize => 0x2_0000;
    public ulong UserBrk => 0x0900_0000;
    /// <summary>Where the 32-bit vDSO is mapped.</summary>
    public ulong Vdso32 => 0xB7FF_0000;
    /// <summary>Where anonymous mmap looks for space, growing down.</summary>
    public ulong MmapTop32 => 0xB000_0000;
    public ulong MmapTop64 => 0x7F00_0000_0000;

    public static KernelLayout For(int kernelBits) => kernelBits == 64
        ? new KernelLayout
        {
            KernelBits = 64,
            Text = 0xFFFF_FFFF_8100_0000,
            Functions = 0xFFFF_FFFF_8180_0000,
            Data = 0xFFFF_FFFF_8200_0000,
            StackBase = 0xFFFF_C900_0001_0000,
            StackTop = 0xFFFF_C900_0001_4000,
            DoubleFaultStackTop = 0xFFFF_C900_0002_0000,
        }
        : new KernelLayout
        {
            KernelBits = 32,
            Text = 0xC100_0000,
            Functions = 0xC180_0000,
            Data = 0xC200_0000,
            StackBase = 0xC300_0000,
            // TOP_OF_KERNEL_STACK_PADDING = 8 on 32-bit kernels.
            StackTop = 0xC300_2000 - 8,
            DoubleFaultStackTop = 0xC301_0000,
        };
}
