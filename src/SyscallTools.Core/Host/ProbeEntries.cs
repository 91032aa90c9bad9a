namespace SyscallTools.Core.Host;

/// <summary>
/// How a host probe enters the kernel by each entry method: the call at the call site and the raw SYSENTER and
/// 32-bit SYSCALL sequences it calls. One definition for the comparison scenarios (HostScenarios) and the timing loops
/// (HostSyscallTiming), so both measure the same instructions.
/// </summary>
internal static class ProbeEntries
{
    /// <summary>The methods, as (name, bitness).</summary>
    public static IReadOnlyList<(string Method, int Bitness)> Methods { get; } =
        [("int80", 32), ("vdso", 32), ("sysenter", 32), ("syscall", 32), ("syscall", 64), ("int80", 64)];

    /// <summary>The entry at the call site (EAX/RAX already holds the number).</summary>
    public static void EmitCall(ProbeBuilder b, string method, int bits)
    {
        switch (method)
        {
            case "int80": b.Asm("int 0x80"); break;
            case "vdso": b.Asm($"call dword ptr [0x{b.Slot("aux.sysinfo"):x}]"); break;
            case "sysenter": b.Asm("call raw_sysenter"); break;
            case "syscall" when bits == 32: b.Asm("call raw_syscall"); break;
            default: b.Asm("syscall"); break;
        }
    }

    /// <summary>The routines <see cref="EmitCall"/> calls for raw SYSENTER and 32-bit SYSCALL, placed after the body.</summary>
    public static void EmitRawEntries(ProbeBuilder b, string method, int bits)
    {
        // The classic sequence; 6.x returns it to the vDSO's landing pad, whose pops and ret come back to the caller.
        if (method == "sysenter")
            b.Asm("raw_sysenter:").Asm("push ecx").Asm("push edx").Asm("push ebp").Asm("mov ebp, esp").Asm("sysenter_insn:").Asm("sysenter").Asm("ud2");
        if (method == "syscall" && bits == 32)
            b.Asm("raw_syscall:").Asm("push ecx").Asm("push edx").Asm("push ebp").Asm("mov ebp, ecx").Asm("syscall_insn:").Asm("syscall")
             .Asm("pop ebp").Asm("pop edx").Asm("pop ecx").Asm("ret");
    }
}
