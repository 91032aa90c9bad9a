using SyscallTools.Core.Linux.Syscalls;

namespace SyscallTools.Core.Linux;

/// <summary>Signal generation and the parts of delivery that need no user frame: default actions and syscall restart.</summary>
public sealed partial class LinuxMachine
{
    /// <summary>A signal is pending and not blocked (signal_pending()).</summary>
    public bool SignalPending => (SignalState.Pending & ~SignalState.Blocked) != 0;

    /// <summary>recalc_sigpending(): keeps _TIF_SIGPENDING in step with the pending and blocked sets.</summary>
    internal void RecalcSigPending()
    {
        if (SignalPending) Task.Flags |= ThreadFlags.SigPending; else Task.Flags &= ~ThreadFlags.SigPending;
    }

    /// <summary>Queues a signal for the task (kill, tgkill, or a caller of the model).</summary>
    public void SendSignal(int sig)
    {
        SignalState.Pending |= SignalState.Bit(sig);
        RecalcSigPending();
    }

    /// <summary>force_sig(): a synchronous signal from a fault; it cannot be blocked or ignored.</summary>
    internal void ForceSignal(int sig)
    {
        SignalState.Blocked &= ~SignalState.Bit(sig);
        if (SignalState.Actions[sig].Handler == SignalAction.SigIgn) SignalState.Actions[sig] = SignalAction.Default;
        SendSignal(sig);
    }

    /// <summary>The single task would sleep forever: stop the run and say why.</summary>
    internal void Block(string why)
    {
        Current.Blocked = why;
        Cpu.RequestStop(why);
    }

    /// <summary>The restart_block of an interrupted call (nanosleep), run by restart_syscall.</summary>
    internal Func<SyscallContext, long>? RestartBlock { get; set; }

    /// <summary>
    /// do_signal / arch_do_signal_or_restart: deliver the next signal, or, with none to deliver, restart an
    /// interrupted system call by backing IP up over the instruction that entered (IP - 2).
    /// </summary>
    private void DoSignal(PtRegs regs)
    {
        while (true)
        {
            int sig = SignalState.NextDeliverable();
            if (sig == 0)
            {
                RecalcSigPending();
                RestartWithoutHandler(regs);
                return;
            }
            SignalState.Pending &= ~SignalState.Bit(sig);
            RecalcSigPending();
            // A trap's siginfo travels with the signal it raised; every other signal (one dequeued before it, one the
            // tracer substitutes) has none, and once dequeued the trap's details are gone whatever happens next.
            _deliveringTrap = _pendingTrapSig == sig ? _pendingTrap : null;
            if (_pendingTrapSig == sig) (_pendingTrap, _pendingTrapSig) = (null, 0);
            if (Tracer.Attached)
            {
                // The signal-delivery stop: the tracer may cancel the signal or substitute another.
                int chosen = Tracer.SignalStop(sig, regs);
                if (chosen != sig) _deliveringTrap = null;
                sig = chosen;
                if (sig is <= 0 or > 64) continue;
            }
            var act = SignalState.Actions[sig];
            if (act.Handler == SignalAction.SigIgn || (act.Handler == SignalAction.SigDfl && Signal.DefaultIgnored(sig))) continue;
            Current.Signal = sig;
            if (act.Handler == SignalAction.SigDfl)
            {
                // The default action of every other signal the model knows is to terminate.
                Task.Kill(sig);
                Current.KilledWith = RegisterSnapshot.FromPtRegs(regs, Cpu);
                Cpu.RequestStop($"task killed by {Signal.Name(sig)}");
                return;
            }
            HandleSignal(sig, act, regs);
            return;
        }
    }

    /// <summary>With no handler run, -ERESTART{SYS,NOINTR,NOHAND} re-execute the call and -ERESTART_RESTARTBLOCK goes through restart_syscall.</summary>
    private void RestartWithoutHandler(PtRegs regs)
    {
        if ((long)regs.OrigAx < 0 && KernelBits == 64 || KernelBits == 32 && (int)regs.OrigAx < 0) return;
        long ax = KernelBits == 64 && Task.Bitness == 64 ? (long)regs.Ax : (int)regs.Ax;
        switch (-ax)
        {
            case Errno.ERESTARTNOHAND or Errno.ERESTARTSYS or Errno.ERESTARTNOINTR:
                regs.Ax = regs.OrigAx;
                regs.Ip -= 2;
                break;
            case Errno.ERESTART_RESTARTBLOCK:
                regs.Ax = Task.Bitness == 32 ? 0UL : 219UL;
                regs.Ip -= 2;
                break;
        }
    }
}
