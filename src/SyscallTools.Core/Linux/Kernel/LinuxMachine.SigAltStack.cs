namespace SyscallTools.Core.Linux;

/// <summary>
/// The alternate signal stack (kernel/signal.c do_sigaltstack, include/linux/sched/signal.h on_sig_stack and
/// sas_ss_flags, arch/x86/kernel/signal.c get_sigframe): where a SA_ONSTACK handler's frame goes, and the uc_stack
/// a rt frame records. The stack grows down, so "on the stack" means base &lt; sp &lt;= base + size.
/// </summary>
public sealed partial class LinuxMachine
{
    /// <summary>on_sig_stack(sp). From 4.7 a stack armed with SS_AUTODISARM never counts as "on" it.</summary>
    /// <summary>__on_sig_stack(sp): inside the stack, whatever its flags.</summary>
    internal bool WithinSigStack(ulong sp)
    {
        var a = SignalState.AltStack;
        return sp > a.Sp && sp - a.Sp <= a.Size;
    }

    internal bool OnSigStack(ulong sp)
    {
        var a = SignalState.AltStack;
        if (Model.SsAutodisarm && (a.Flags & AltStack.SsAutodisarm) != 0) return false;
        return sp > a.Sp && sp - a.Sp <= a.Size;
    }

    /// <summary>sas_ss_flags(sp): SS_DISABLE without a stack, SS_ONSTACK while sp is on it, else 0.</summary>
    internal uint SasSsFlags(ulong sp) =>
        SignalState.AltStack.Size == 0 ? AltStack.SsDisable : OnSigStack(sp) ? AltStack.SsOnstack : 0;

    /// <summary>
    /// The stack_t a query returns: 4.7+ adds the flag bits the task set (SS_AUTODISARM) to sas_ss_flags(sp).
    /// </summary>
    internal AltStack QueryAltStack(ulong sp)
    {
        var a = SignalState.AltStack;
        uint flagBits = Model.SsAutodisarm ? a.Flags & AltStack.SsAutodisarm : 0;
        return new AltStack(a.Sp, a.Size, SasSsFlags(sp) | flagBits);
    }

    /// <summary>
    /// do_sigaltstack(ss, sp) without the user copies: 0 or a negative errno. A task running on its alternate stack
    /// may not change it (-EPERM); the mode must be 0, SS_ONSTACK or SS_DISABLE (-EINVAL; 4.7+ also allows the
    /// SS_AUTODISARM bit); a stack smaller than MINSIGSTKSZ is refused (-ENOMEM); SS_DISABLE forgets base and size.
    /// </summary>
    internal long DoSigaltstack(AltStack ss, ulong sp)
    {
        if (OnSigStack(sp)) return -Errno.EPERM;
        uint mode = Model.SsAutodisarm ? ss.Flags & ~AltStack.SsAutodisarm : ss.Flags;
        if (mode is not (0 or AltStack.SsOnstack or AltStack.SsDisable)) return -Errno.EINVAL;
        if (mode == AltStack.SsDisable)
        {
            SignalState.AltStack = new AltStack(0, 0, Model.SsAutodisarm ? ss.Flags : AltStack.SsDisable);
            return 0;
        }
        if (ss.Size < AltStack.MinSigStkSz) return -Errno.ENOMEM;
        // Before 4.7 the kernel kept only base and size; the flags it reports are always computed from sp.
        SignalState.AltStack = new AltStack(ss.Sp, ss.Size, Model.SsAutodisarm ? ss.Flags : 0);
        return 0;
    }

    /// <summary>
    /// The uc_stack a rt frame records (save_altstack): base and size, and as flags sas_ss_flags(regs->sp) before 4.7,
    /// the stored sas_ss_flags after.
    /// </summary>
    private AltStack FrameUcStack(ulong sp)
    {
        var a = SignalState.AltStack;
        return new AltStack(a.Sp, a.Size, Model.SsAutodisarm ? a.Flags : SasSsFlags(sp));
    }

    /// <summary>
    /// get_sigframe()'s choice of stack for a handler frame: the top of the alternate stack for a SA_ONSTACK handler
    /// when there is one and the task is not already on it; otherwise <paramref name="sp"/> (already past the
    /// 64-bit red zone). 4.7+ asks sas_ss_flags() of that sp; before, "not on it" was tested on regs->sp.
    /// </summary>
    private ulong SigFrameStack(SignalAction act, ulong regsSp, ulong sp) => SigFrameStack(act, regsSp, sp, out _);

    /// <summary>As above; <paramref name="entering"/>: the frame goes to the top of the alternate stack (entering_altstack).</summary>
    private ulong SigFrameStack(SignalAction act, ulong regsSp, ulong sp, out bool entering)
    {
        entering = false;
        if ((act.Flags & SignalAction.SaOnstack) == 0) return sp;
        var a = SignalState.AltStack;
        bool use = Model.SsAutodisarm ? SasSsFlags(sp) == 0 : !OnSigStack(regsSp) && a.Size != 0;
        entering = use;
        return use ? a.Sp + a.Size : sp;
    }

    /// <summary>rt_sigreturn's restore_altstack(): re-applies uc_stack; only a fault in reading it is an error.</summary>
    private void RestoreAltStack(AltStack ss, ulong sp)
    {
        var a = SignalState.AltStack;
        // 5.x+ returns early when nothing changes; older kernels re-set the same values. Either way, no change.
        if (a.Sp == ss.Sp && a.Size == ss.Size && (!Model.SsAutodisarm || a.Flags == ss.Flags)) return;
        DoSigaltstack(ss, sp);
    }
}
