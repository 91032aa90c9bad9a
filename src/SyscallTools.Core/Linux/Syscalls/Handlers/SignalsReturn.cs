namespace SyscallTools.Core.Linux.Syscalls.Handlers;

/// <summary>sigreturn and rt_sigreturn: hand the frame back to the kernel model.</summary>
internal static class SignalsReturn
{
    public const int NrSigreturn32 = 119, NrRtSigreturn32 = 173, NrRtSigreturn64 = 15;

    public static long SigReturn(SyscallContext c) => c.Machine.SigReturn(rt: false, c.Regs);
    public static long RtSigReturn(SyscallContext c) => c.Machine.SigReturn(rt: true, c.Regs);
}
