namespace SyscallTools.Core.Linux;

/// <summary>One signal's disposition (struct k_sigaction): handler (0 = SIG_DFL, 1 = SIG_IGN), flags, restorer, mask.</summary>
public sealed record SignalAction(ulong Handler, ulong Flags, ulong Restorer, ulong Mask)
{
    public static readonly SignalAction Default = new(0, 0, 0, 0);
    public const ulong SigDfl = 0, SigIgn = 1;
    public const ulong SaSiginfo = 4, SaRestorer = 0x0400_0000, SaOnstack = 0x0800_0000, SaRestart = 0x1000_0000,
        SaNodefer = 0x4000_0000, SaResethand = 0x8000_0000;
}

/// <summary>The task's signal state: dispositions, the blocked mask and the pending set.</summary>
public sealed class SignalState
{
    public SignalAction[] Actions { get; } = Enumerable.Repeat(SignalAction.Default, 65).ToArray();
    public ulong Blocked { get; set; }
    public ulong Pending { get; set; }

    /// <summary>The alternate signal stack set with sigaltstack() (task_struct sas_ss_sp, sas_ss_size, sas_ss_flags).</summary>
    public AltStack AltStack { get; set; } = AltStack.None;

    /// <summary>SIGKILL and SIGSTOP can be neither caught nor blocked.</summary>
    public const ulong Unblockable = (1UL << (9 - 1)) | (1UL << (19 - 1));

    public static ulong Bit(int sig) => 1UL << (sig - 1);

    /// <summary>exec (flush_signal_handlers): caught signals go back to SIG_DFL, ignored ones stay ignored; no alternate stack.</summary>
    public void ResetForExec()
    {
        for (int i = 1; i < Actions.Length; i++)
            if (Actions[i].Handler != SigIgn) Actions[i] = SignalAction.Default;
        AltStack = AltStack.None;
    }

    /// <summary>SIG_IGN as a handler value.</summary>
    public const ulong SigIgn = 1;

    /// <summary>The lowest-numbered pending signal that is not blocked, or 0.</summary>
    public int NextDeliverable()
    {
        ulong ready = Pending & ~Blocked;
        return ready == 0 ? 0 : System.Numerics.BitOperations.TrailingZeroCount(ready) + 1;
    }
}

/// <summary>
/// An alternate signal stack: base, size and the flags the task asked for (stack_t, include/uapi/asm-generic/signal.h).
/// Size 0 is "none" (sas_ss_flags() then reports SS_DISABLE).
/// </summary>
public sealed record AltStack(ulong Sp, ulong Size, uint Flags)
{
    public static readonly AltStack None = new(0, 0, SsDisable);
    public const uint SsOnstack = 1, SsDisable = 2, SsAutodisarm = 1u << 31;
    /// <summary>MINSIGSTKSZ on x86: smaller stacks are refused with -ENOMEM.</summary>
    public const ulong MinSigStkSz = 2048;
}

/// <summary>Signal numbers and names (x86 asm/signal.h).</summary>
public static class Signal
{
    public const int SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGILL = 4, SIGTRAP = 5, SIGABRT = 6, SIGBUS = 7, SIGFPE = 8,
        SIGKILL = 9, SIGUSR1 = 10, SIGSEGV = 11, SIGUSR2 = 12, SIGPIPE = 13, SIGALRM = 14, SIGTERM = 15, SIGCHLD = 17,
        SIGCONT = 18, SIGSTOP = 19, SIGTSTP = 20, SIGURG = 23, SIGWINCH = 28, SIGSYS = 31;

    private static readonly string[] Names =
    [
        "", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1",
        "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP",
        "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
    ];

    public static string Name(int sig) => sig > 0 && sig < Names.Length ? Names[sig] : sig >= 32 && sig <= 64 ? $"SIGRT{sig - 32}" : $"signal {sig}";

    /// <summary>Default action is to ignore (SIGCHLD, SIGURG, SIGWINCH, SIGCONT).</summary>
    public static bool DefaultIgnored(int sig) => sig is SIGCHLD or SIGURG or SIGWINCH or SIGCONT;
}
