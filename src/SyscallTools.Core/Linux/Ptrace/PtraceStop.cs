using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux.Models;

namespace SyscallTools.Core.Linux.Ptrace;

public enum PtraceStopKind { SyscallEntry, SyscallExit, SignalDelivery }

/// <summary>A rejected tracer write: what the kernel's putreg would answer (-EIO) and why.</summary>
public sealed class PtraceWriteException(string register, ulong value, string why)
    : Exception($"PTRACE_POKEUSER {register} = 0x{value:x} rejected (-EIO): {why}")
{
    public string Register { get; } = register;
    public ulong Value { get; } = value;
    public string Why { get; } = why;
}

/// <summary>
/// A tracee stopped at a syscall-entry or syscall-exit stop. The tracer reads registers and writes them through
/// <see cref="Poke"/>, which applies the kernel's putreg/putreg32 rules (arch/x86/kernel/ptrace.c).
/// </summary>
public sealed class PtraceStop
{
    private readonly LinuxMachine _machine;
    private readonly List<(string Register, ulong Old, ulong New)> _writes = new();

    internal PtraceStop(LinuxMachine machine, PtraceStopKind kind, PtRegs regs)
    {
        _machine = machine;
        Kind = kind;
        Regs = regs;
    }

    public PtraceStopKind Kind { get; }

    /// <summary>At a signal-delivery stop: the signal about to be delivered. The tracer may change it, or set 0 to suppress it.</summary>
    public int Signal { get; set; }
    /// <summary>The live pt_regs of the stopped task (reads are PTRACE_PEEKUSER).</summary>
    public PtRegs Regs { get; }
    public int TaskBits => _machine.Task.Bitness;
    public int KernelBits => _machine.KernelBits;
    /// <summary>syscall_get_nr(): orig_ax as the kernel reads it.</summary>
    public long SyscallNumber => _machine.KernelBits == 64 && TaskBits == 64 ? (long)Regs.OrigAx : (int)Regs.OrigAx;
    public IReadOnlyList<(string Register, ulong Old, ulong New)> Writes => _writes;

    /// <summary>The registers a tracer of this task can name.</summary>
    public IReadOnlyList<string> RegisterNames => TaskBits == 64
        ? ["r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8", "ax", "cx", "dx", "si", "di", "orig_ax", "ip", "cs", "flags", "sp", "ss"]
        : ["bx", "cx", "dx", "si", "di", "bp", "ax", "orig_ax", "ip", "cs", "flags", "sp", "ss"];

    public ulong Peek(string register)
    {
        string r = Normalize(register);
        ulong v = Regs[r];
        return TaskBits == 32 ? (uint)v : v;
    }

    /// <summary>PTRACE_POKEUSER with the kernel's rules; throws <see cref="PtraceWriteException"/> for what putreg refuses.</summary>
    public void Poke(string register, ulong value)
    {
        string r = Normalize(register);
        ulong old = Regs[r];
        ulong v = PutRegRules.Apply(r, value, old, TaskBits, _machine.KernelBits);
        Regs[r] = v;
        _writes.Add((r, old, v));
        _machine.ForceIret();
        // A 32-bit tracer's pokes: the restart code must treat orig_ax as sign-extended (TS_I386_REGS_POKED).
        if (r == "orig_ax" && TaskBits == 32 && _machine.KernelBits == 64) _machine.Task.RegsPoked = true;
    }

    private string Normalize(string register)
    {
        string r = register.Trim().ToLowerInvariant();
        // eax/rax → ax (only the legacy names: r10..r15 keep their names).
        if (r.Length == 3 && (r[0] == 'e' || r[0] == 'r') && r[1..] is "ax" or "bx" or "cx" or "dx" or "si" or "di" or "bp" or "sp" or "ip") r = r[1..];
        if (r is "eflags" or "rflags") r = "flags";
        if (r is "origax" or "orig_eax" or "orig_rax") r = "orig_ax";
        if (!RegisterNames.Contains(r))
            throw new ArgumentException($"'{register}' is not a register a tracer of a {TaskBits}-bit task can write; use one of: {string.Join(", ", RegisterNames)}.", nameof(register));
        return r;
    }
}

/// <summary>The putreg/putreg32 rules: what a tracer may write into pt_regs.</summary>
public static class PutRegRules
{
    /// <summary>FLAG_MASK: the flags a tracer (or sigreturn) may change: CF PF AF ZF SF TF DF OF RF AC NT.</summary>
    public const ulong FlagMask = RFlags.CF | RFlags.PF | RFlags.AF | RFlags.ZF | RFlags.SF | RFlags.TF | RFlags.DF
                                  | RFlags.OF | RFlags.RF | RFlags.AC | RFlags.NT;

    public static ulong Apply(string reg, ulong value, ulong old, int taskBits, int kernelBits)
    {
        if (taskBits == 32) value = (uint)value;
        switch (reg)
        {
            case "flags":
                // set_flags(): only the user-changeable bits; IF, IOPL, VM and the rest keep the kernel's value.
                return (old & ~FlagMask) | (value & FlagMask);
            case "cs":
            case "ss":
                if (value > 0xFFFF) throw new PtraceWriteException(reg, value, "a selector is 16 bits");
                if (value == 0) throw new PtraceWriteException(reg, value, $"{reg} cannot be a null selector");
                if ((value & 3) != 3) throw new PtraceWriteException(reg, value, "invalid_selector(): a user selector must have RPL 3");
                return value;
            case "orig_ax":
                // putreg32: orig_eax is sign-extended so that -1 ("no restart") survives as -1.
                return taskBits == 32 && kernelBits == 64 ? (ulong)(long)(int)value : value;
            case "ip" when taskBits == 64 && kernelBits == 64 && value >= KernelModel.TaskSizeMax + 0x1000 && (long)value >= 0:
                // Not refused by putreg: IRET (the exit such a value forces) reports it as the user's SIGSEGV.
                return value;
            default:
                return value;
        }
    }
}
