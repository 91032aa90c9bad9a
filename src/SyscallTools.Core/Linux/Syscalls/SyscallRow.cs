namespace SyscallTools.Core.Linux.Syscalls;

/// <summary>A system call's implementation: returns the value for regs->ax (a negative errno on failure).</summary>
public delegate long SyscallHandler(SyscallContext ctx);

/// <summary>One row of a syscall table: number, name, arity and handler together drive dispatch, tracing and completion.</summary>
public sealed record SyscallRow(int Number, string Name, int Arity, SyscallHandler Handler)
{
    public override string ToString() => $"{Number} {Name}/{Arity}";
}
