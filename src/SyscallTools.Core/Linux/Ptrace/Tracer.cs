namespace SyscallTools.Core.Linux.Ptrace;

/// <summary>One stop the tracer saw: its kind, the number, the registers before and what was written.</summary>
public sealed record PtraceStopRecord(PtraceStopKind Kind, long SyscallNumber, IReadOnlyList<(string Name, ulong Value)> Before,
    IReadOnlyList<(string Register, ulong Old, ulong New)> Writes);

/// <summary>The ptrace requests that resume a stopped tracee (include/uapi/linux/ptrace.h, arch/x86 PTRACE_SYSEMU*).</summary>
public enum PtraceRequest
{
    /// <summary>PTRACE_CONT: no syscall stops, no stepping.</summary>
    Cont,
    /// <summary>PTRACE_SYSCALL: stop at every syscall entry and exit.</summary>
    Syscall,
    /// <summary>PTRACE_SINGLESTEP: a SIGTRAP after every user instruction, a syscall instruction included (reported at its exit).</summary>
    Singlestep,
    /// <summary>PTRACE_SYSEMU: stop at every syscall entry and skip the call; no exit stop.</summary>
    Sysemu,
    /// <summary>PTRACE_SYSEMU_SINGLESTEP: single-step, with a syscall instruction reported by its SYSEMU entry stop instead.</summary>
    SysemuSinglestep,
}

/// <summary>
/// A ptrace tracer of the task (PTRACE_SYSCALL): while attached, TIF_SYSCALL_TRACE is set, so every system call
/// stops at entry (after pt_regs is built, before dispatch — orig_ax is re-read afterwards) and at exit.
/// </summary>
public sealed class Tracer
{
    private readonly LinuxMachine _machine;
    private Action<PtraceStop>? _onStop;

    internal Tracer(LinuxMachine machine) => _machine = machine;

    /// <summary>Called at each stop. Setting it attaches the tracer; null detaches.</summary>
    public Action<PtraceStop>? OnStop
    {
        get => _onStop;
        set
        {
            _onStop = value;
            if (value is null) _machine.Task.Flags &= ~ThreadFlags.SyscallTrace;
            else _machine.Task.Flags |= ThreadFlags.SyscallTrace;
        }
    }

    public bool Attached => _onStop is not null;

    /// <summary>
    /// PTRACE_SINGLESTEP: from the next return to user mode the task runs with TF set by the kernel (TIF_FORCED_TF),
    /// so each user instruction ends in a SIGTRAP that the tracer sees at a signal-delivery stop (set its Signal to 0 to
    /// swallow it, as a debugger does). Turning it off takes the forced TF away again.
    /// </summary>
    public bool SingleStep { get; set; }

    /// <summary>TIF_FORCED_TF: the TF in the task's flags was set by the tracer, not by the task.</summary>
    internal bool ForcedTf { get; set; }

    /// <summary>PTRACE_SYSEMU: stop at entry and skip the call (no exit stop). Needs <see cref="OnStop"/>.</summary>
    public bool Sysemu
    {
        get => (_machine.Task.Flags & ThreadFlags.SyscallEmu) != 0;
        set
        {
            if (value) _machine.Task.Flags |= ThreadFlags.SyscallEmu; else _machine.Task.Flags &= ~ThreadFlags.SyscallEmu;
        }
    }

    /// <summary>
    /// ptrace_resume(): what the request leaves armed — TIF_SYSCALL_TRACE only for PTRACE_SYSCALL, TIF_SYSCALL_EMU for
    /// both SYSEMU requests, single-stepping for both SINGLESTEP requests. Call it from a stop (or before a run).
    /// </summary>
    public void Resume(PtraceRequest request)
    {
        var f = _machine.Task.Flags;
        f = request == PtraceRequest.Syscall ? f | ThreadFlags.SyscallTrace : f & ~ThreadFlags.SyscallTrace;
        f = request is PtraceRequest.Sysemu or PtraceRequest.SysemuSinglestep ? f | ThreadFlags.SyscallEmu : f & ~ThreadFlags.SyscallEmu;
        _machine.Task.Flags = f;
        SingleStep = request is PtraceRequest.Singlestep or PtraceRequest.SysemuSinglestep;
    }

    /// <summary>Every stop since the tracer was made, oldest first (bounded).</summary>
    public List<PtraceStopRecord> History { get; } = new();

    /// <summary>ptrace_signal(): the tracer sees each signal before delivery and decides which (if any) is delivered.</summary>
    internal int SignalStop(int sig, PtRegs regs)
    {
        if (_onStop is null) return sig;
        var stop = Stop(PtraceStopKind.SignalDelivery, regs, sig);
        return stop.Signal;
    }

    internal PtraceStop Stop(PtraceStopKind kind, PtRegs regs, int signal = 0)
    {
        var stop = new PtraceStop(_machine, kind, regs) { Signal = signal };
        if (_onStop is null) return stop;
        var before = regs.Snapshot();
        _onStop(stop);
        if (History.Count >= 10_000) History.RemoveRange(0, 5_000);
        History.Add(new PtraceStopRecord(kind, stop.SyscallNumber, before, stop.Writes));
        _machine.Current.PtraceStops.Add(History[^1]);
        return stop;
    }
}
