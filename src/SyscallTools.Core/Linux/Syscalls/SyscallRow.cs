namespace SyscallTools.Core.Linux.Syscalls;

/// <summary>A system call's implementation: returns the value for regs->ax (a negative errno on failure).</summary>
public delegate long SyscallHandler(SyscallContext ctx);

/// <summary>One row of a syscall table: number, name, arity and handler together drive dispatch, tracing and completion.</summary>
public sealed record SyscallRow(int Number, string Name, int Arity, SyscallHandler Handler)
{
    /// <summary>False for a call that is named (so traces and run results say which) but answered -ENOSYS, as
    /// sys_ni_syscall would: the model does not implement it.</summary>
    public bool Modelled { get; init; } = true;

    /// <summary>A named row whose answer is -ENOSYS.</summary>
    public static SyscallRow NotModelled(int number, string name, int arity) =>
        new(number, name, arity, _ => -Errno.ENOSYS) { Modelled = false };

    public override string ToString() => $"{Number} {Name}/{Arity}";
}
