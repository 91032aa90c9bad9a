namespace SyscallTools.Core.Linux;

/// <summary>Linux GDT selectors (arch/x86/include/asm/segment.h).</summary>
public static class Selectors
{
    /// <summary>64-bit kernel: "GDT layout to get 64bit syscall right (sysret hardcodes gdt offsets)".</summary>
    public static class X64
    {
        public const ushort Kernel32Cs = 0x08;
        public const ushort KernelCs = 0x10;
        public const ushort KernelDs = 0x18;
        public const ushort User32Cs = 0x23;
        public const ushort UserDs = 0x2B;
        public const ushort User32Ds = UserDs;
        public const ushort UserCs = 0x33;
        public const ushort Tss = 0x40;
    }

    /// <summary>32-bit kernel (GDT entries 12–16).</summary>
    public static class X86
    {
        public const ushort KernelCs = 0x60;
        public const ushort KernelDs = 0x68;
        public const ushort UserCs = 0x73;
        public const ushort UserDs = 0x7B;
        public const ushort Tss = 0x80;
        /// <summary>GDT_ENTRY_ESPFIX_SS (26): the stack segment espfix32 returns to a 16-bit LDT stack from.</summary>
        public const ushort EspfixSs = 0xD0;
        public const ushort KernelPercpu = 0xD8;
    }
}
