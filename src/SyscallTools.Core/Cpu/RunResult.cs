namespace SyscallTools.Core.Cpu;

public enum StopReason : byte
{
    /// <summary>The instruction budget ran out; the machine can run on.</summary>
    BudgetExhausted,
    /// <summary>HLT in ring 0.</summary>
    Halted,
    /// <summary>A fault was raised with fault delivery turned off; state is as before the faulting instruction.</summary>
    Fault,
    /// <summary>A triple fault: the processor shuts down.</summary>
    Shutdown,
    /// <summary>Execution reached a stop address, or native code asked to stop.</summary>
    Stopped,
    /// <summary>The caller cancelled the run.</summary>
    Cancelled,
}

/// <summary>How a run ended, as a value.</summary>
public sealed record RunResult(StopReason Reason, long Instructions, CpuFault? Fault, string Message)
{
    public override string ToString() => $"{Reason} after {Instructions} instructions{(Message.Length > 0 ? ": " + Message : "")}";
}
