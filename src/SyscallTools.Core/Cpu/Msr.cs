namespace SyscallTools.Core.Cpu;

/// <summary>Model-specific register numbers (arch/x86/include/asm/msr-index.h).</summary>
public static class Msr
{
    public const uint SysenterCs = 0x174;
    public const uint SysenterEsp = 0x175;
    public const uint SysenterEip = 0x176;
    public const uint Efer = 0xC000_0080;
    public const uint Star = 0xC000_0081;
    public const uint Lstar = 0xC000_0082;
    public const uint Cstar = 0xC000_0083;
    public const uint Fmask = 0xC000_0084;   // MSR_SYSCALL_MASK
    public const uint FsBase = 0xC000_0100;
    public const uint GsBase = 0xC000_0101;
    public const uint KernelGsBase = 0xC000_0102;
    public const uint TscAux = 0xC000_0103;
    public const uint Tsc = 0x10;

    // EFER bits.
    public const ulong EferSce = 1UL << 0;
    public const ulong EferLme = 1UL << 8;
    public const ulong EferLma = 1UL << 10;
    public const ulong EferNxe = 1UL << 11;

    public static string Name(uint msr) => msr switch
    {
        SysenterCs => "IA32_SYSENTER_CS",
        SysenterEsp => "IA32_SYSENTER_ESP",
        SysenterEip => "IA32_SYSENTER_EIP",
        Efer => "IA32_EFER",
        Star => "IA32_STAR",
        Lstar => "IA32_LSTAR",
        Cstar => "IA32_CSTAR",
        Fmask => "IA32_FMASK",
        FsBase => "IA32_FS_BASE",
        GsBase => "IA32_GS_BASE",
        KernelGsBase => "IA32_KERNEL_GS_BASE",
        TscAux => "IA32_TSC_AUX",
        Tsc => "IA32_TIME_STAMP_COUNTER",
        _ => $"MSR 0x{msr:x}",
    };
}

/// <summary>Control-register bits the model reads.</summary>
public static class ControlBits
{
    public const ulong Cr0Pe = 1UL << 0;
    public const ulong Cr0Mp = 1UL << 1, Cr0Em = 1UL << 2, Cr0Ts = 1UL << 3, Cr0Ne = 1UL << 5;
    public const ulong Cr0Wp = 1UL << 16;
    public const ulong Cr0Am = 1UL << 18;
    public const ulong Cr0Pg = 1UL << 31;
    public const ulong Cr4Pae = 1UL << 5;
    /// <summary>The OS saves SSE state with FXSAVE (SSE instructions are #UD without it) and handles #XM.</summary>
    public const ulong Cr4Osfxsr = 1UL << 9, Cr4Osxmmexcpt = 1UL << 10;
    public const ulong Cr4Smep = 1UL << 20;
    public const ulong Cr4Smap = 1UL << 21;
}
