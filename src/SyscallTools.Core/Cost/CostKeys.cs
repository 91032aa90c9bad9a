namespace SyscallTools.Core.Cost;

/// <summary>The keys a cost table prices, and how an instruction's text maps to one.</summary>
public static class CostKeys
{
    /// <summary>Transition and serialising instructions, priced one by one.</summary>
    public static readonly IReadOnlyList<string> Transitions =
        ["syscall", "sysret", "sysenter", "sysexit", "int", "iret", "swapgs", "mov cr3", "popf", "sti", "cli", "exception"];

    /// <summary>Ordinary instructions by class.</summary>
    public static readonly IReadOnlyList<string> Classes =
        ["class:alu", "class:memory", "class:stack", "class:branch", "class:call-ret"];

    /// <summary>The C side: one figure per modelled C function, the parts of the exit, a syscall body.</summary>
    public static readonly IReadOnlyList<string> CFunctions =
    [
        "c:do_syscall_64", "c:do_fast_syscall_32", "c:do_SYSENTER_32", "c:do_int80_syscall_32", "c:do_syscall_32_irqs_off",
        "c:do_int80_emulation", "c:syscall_trace_enter", "c:syscall_return_slowpath", "c:opportunistic_sysret_ok",
        "c:exc_handler", "c:exit-check", "c:slow-exit", "c:syscall-body",
    ];

    public static IEnumerable<string> All => Transitions.Concat(Classes).Concat(CFunctions);

    public static bool IsKnown(string key) =>
        All.Contains(key, StringComparer.OrdinalIgnoreCase) || key.StartsWith("c:sys_", StringComparison.OrdinalIgnoreCase);

    /// <summary>The key for one instruction, from its Intel-syntax text ("push ecx", "sysretq", "mov cr3, rax").</summary>
    public static string ForInstruction(string text)
    {
        string t = text.Trim().ToLowerInvariant();
        int sp = t.IndexOf(' ');
        string m = sp < 0 ? t : t[..sp];
        string operands = sp < 0 ? "" : t[(sp + 1)..];
        switch (m)
        {
            case "syscall": return "syscall";
            case "sysret" or "sysretd" or "sysretq": return "sysret";
            case "sysenter": return "sysenter";
            case "sysexit" or "sysexitd" or "sysexitq": return "sysexit";
            case "int" or "int3" or "into" or "int1": return "int";
            case "iret" or "iretd" or "iretq": return "iret";
            case "swapgs": return "swapgs";
            case "popf" or "popfd" or "popfq": return "popf";
            case "sti": return "sti";
            case "cli": return "cli";
            case "mov" when operands.StartsWith("cr3", StringComparison.Ordinal): return "mov cr3";
            case "call" or "ret" or "retf" or "leave": return "class:call-ret";
            case "push" or "pop" or "pushf" or "pushfd" or "pushfq" or "pusha" or "pushad" or "popa" or "popad": return "class:stack";
        }
        if (m.StartsWith('j') || m.StartsWith("loop", StringComparison.Ordinal)) return "class:branch";
        return operands.Contains('[') ? "class:memory" : "class:alu";
    }
}
