namespace SyscallTools.Core.Cpu;

/// <summary>General-purpose register numbers in the hardware's encoding order.</summary>
public enum Gpr : byte
{
    Rax, Rcx, Rdx, Rbx, Rsp, Rbp, Rsi, Rdi, R8, R9, R10, R11, R12, R13, R14, R15,
}
