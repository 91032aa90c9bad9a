namespace SyscallTools.Core.Host;

public enum TraceStopKind { SyscallEntry, SyscallExit, Signal, Step }

/// <summary>How a tracer resumes the tracee after a stop.</summary>
public enum TraceResume
{
    /// <summary>PTRACE_SYSCALL: run to the next syscall-entry or -exit stop.</summary>
    Syscall,
    /// <summary>PTRACE_SINGLESTEP: run one instruction.</summary>
    SingleStep,
    /// <summary>PTRACE_SYSEMU: stop at the next syscall entry and skip the call.</summary>
    Sysemu,
}

/// <summary>A stopped tracee as a tracer sees it: the same view over the host (ptrace) and the emulator (its Tracer).</summary>
public interface ITraceeStop
{
    TraceStopKind Kind { get; }
    /// <summary>At a signal stop: the signal; set 0 to suppress it (or another number to substitute).</summary>
    int Signal { get; set; }
    /// <summary>A register by its user_regs_struct name (ax, orig_ax, ip, r8, flags...), as a 64-bit tracer reads it.</summary>
    ulong Get(string register);
    void Set(string register, ulong value);
    /// <summary>At a signal stop, PTRACE_GETSIGINFO: (si_code, si_addr) of the signal about to be delivered; null elsewhere.</summary>
    (int Code, ulong Addr)? SigInfo();
    /// <summary>kill(tracee, sig) while it is stopped: the signal is pending when it runs on.</summary>
    void Kill(int signal);
    /// <summary>PTRACE_PEEKTEXT, as bytes (null when the address cannot be read).</summary>
    byte[]? Read(ulong address, int length);
}

/// <summary>
/// A tracer's behaviour, written once and run against both kernels. It starts after the probe's own SIGSTOP (which the
/// runner swallows) and sees every later stop; what it records is compared field by field.
/// </summary>
public abstract class TracerScript
{
    /// <summary>Called at each stop; records observations and says how to resume.</summary>
    public abstract TraceResume OnStop(ITraceeStop stop, TraceLog log);

    /// <summary>How the tracer resumes from the probe's SIGSTOP.</summary>
    public virtual TraceResume First => TraceResume.Syscall;
}

/// <summary>What a tracer recorded: named values, in order.</summary>
public sealed class TraceLog
{
    private readonly List<(string Field, ulong Value)> _values = new();
    public IReadOnlyList<(string Field, ulong Value)> Values => _values;
    public int Stops { get; set; }
    public void Add(string field, ulong value) => _values.Add((field, value));
    /// <summary>A stop limit, so a script that never lets go still ends.</summary>
    public const int MaxStops = 200;
}

/// <summary>A tracer script from a delegate.</summary>
public sealed class DelegateTracer(Func<ITraceeStop, TraceLog, TraceResume> onStop, TraceResume first = TraceResume.Syscall) : TracerScript
{
    public override TraceResume OnStop(ITraceeStop stop, TraceLog log) => onStop(stop, log);
    public override TraceResume First => first;
}
