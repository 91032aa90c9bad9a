namespace SyscallTools.Core.Linux;

/// <summary>
/// Sleeping on virtual time. The model has one task, so a wait that nothing else can end either ends with a signal
/// already pending or at the task's alarm: virtual time jumps to the expiry and SIGALRM is sent, as the timer
/// interrupt would. The clock the task reads is virtual too: nanoseconds slept plus one per instruction retired.
/// </summary>
public sealed partial class LinuxMachine
{
    public const int SIGALRM = 14;

    /// <summary>The task's monotonic clock, in nanoseconds since boot.</summary>
    public ulong VirtualNowNs => Task.VirtualTimeNs + Cpu.InstructionsRetired;

    /// <summary>
    /// A blocking wait: true when a deliverable signal ends it (one was pending, or the alarm fired); false when
    /// nothing can (the caller blocks or reports that it would).
    /// </summary>
    internal bool WaitForSignal()
    {
        if (SignalPending) return true;
        if (Task.AlarmAtNs is not ulong at) return false;
        if (at > VirtualNowNs) Task.VirtualTimeNs += at - VirtualNowNs;
        Task.AlarmAtNs = null;
        SendSignal(SIGALRM);
        return SignalPending;
    }
}
