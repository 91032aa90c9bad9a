namespace SyscallTools.Core.Linux.Models;

/// <summary>Before the rewrite (v4.2): asm fast paths that take SYSRETL/SYSEXIT whenever no work flag is set.</summary>
public sealed class Linux42 : KernelModel
{
    public override string Name => "linux-4.2";
    public override string Description =>
        "Linux 4.2, before the rewrite: three vDSO images chosen at boot; SYSENTER returns to SYSENTER_RETURN and 32-bit SYSCALL to the instruction after it; the asm fast paths exit with SYSRETL (64-bit kernel, even for SYSENTER) or SYSEXIT (32-bit kernel) unless _TIF_ALLWORK_MASK work is pending.";
    public override string Follows => "v4.2 arch/x86/entry/entry_64_compat.S and vdso32/{sysenter,syscall,int80}.S (as in Lutomirski's rewrite branch before its changes)";
    public override string Release => "4.2.0";
    public override EntryGeneration Generation => EntryGeneration.PreRewrite;

    public override ExitDecision Syscall64Exit(ExitInputs x) => new Linux44().Syscall64Exit(x) with { Model = Name };

    public override ExitDecision FastSyscall32Exit(ExitInputs x)
    {
        bool work = (x.Flags & ThreadFlags.AllWork) != 0;
        return Ladder(x, Fast32Instruction(x.KernelBits))
            .Check("6th argument fetched from the user stack", x.ArgFetchOk ? "ok" : "-EFAULT", "ok", x.ArgFetchOk,
                "ia32_badarg: -EFAULT through the IRET path")
            .Check("no _TIF_ALLWORK_MASK work", work ? $"{x.Flags & ThreadFlags.AllWork}" : "none", "none", !work,
                "the old asm fast path trusts pt_regs unless work is pending; then it takes int_ret_from_sys_call (IRET)")
            .Decide();
    }
}
