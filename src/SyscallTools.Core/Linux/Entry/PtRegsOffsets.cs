namespace SyscallTools.Core.Linux.Entry;

/// <summary>Offsets of struct pt_regs fields from the stack pointer after the full frame is pushed (arch/x86/entry/calling.h).</summary>
internal static class Regs64
{
    public const int R15 = 0x00, R14 = 0x08, R13 = 0x10, R12 = 0x18, RBP = 0x20, RBX = 0x28, R11 = 0x30, R10 = 0x38,
        R9 = 0x40, R8 = 0x48, RAX = 0x50, RCX = 0x58, RDX = 0x60, RSI = 0x68, RDI = 0x70, ORIG_RAX = 0x78, RIP = 0x80,
        CS = 0x88, EFLAGS = 0x90, RSP = 0x98, SS = 0xA0, Size = 0xA8;
}

/// <summary>32-bit pt_regs offsets (entry_32.S PT_* names).</summary>
internal static class Regs32
{
    public const int EBX = 0x00, ECX = 0x04, EDX = 0x08, ESI = 0x0C, EDI = 0x10, EBP = 0x14, EAX = 0x18, DS = 0x1C,
        ES = 0x20, FS = 0x24, GS = 0x28, ORIG_EAX = 0x2C, EIP = 0x30, CS = 0x34, EFLAGS = 0x38, OLDESP = 0x3C,
        OLDSS = 0x40, Size = 0x44;
}
