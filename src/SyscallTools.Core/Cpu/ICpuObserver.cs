namespace SyscallTools.Core.Cpu;

/// <summary>Kinds of far transfer: every change of CS the CPU performs.</summary>
public enum FarTransferKind : byte
{
    Syscall, Sysret, Sysenter, Sysexit, SoftwareInterrupt, Exception, Iret, TaskSwitch, FarJmp, FarCall, FarRet,
}

/// <summary>One far transfer: where from, where to, and the privilege and mode on each side.</summary>
public sealed record FarTransfer(
    FarTransferKind Kind,
    string Instruction,
    ushort FromCs, ulong FromIp, int FromCpl, CpuMode FromMode,
    ushort ToCs, ulong ToIp, int ToCpl, CpuMode ToMode,
    ulong ToSp, ulong ToFlags)
{
    public override string ToString() =>
        $"{Instruction}: {FromCs:x}:{FromIp:x} (cpl {FromCpl}) -> {ToCs:x}:{ToIp:x} (cpl {ToCpl}, {ToMode.Describe()})";
}

/// <summary>
/// Receives CPU events. Observation is opt-in: with no observer attached the interpreter takes its
/// fast path and pays nothing.
/// </summary>
public interface ICpuObserver
{
    /// <summary>
    /// Whether the observer needs <see cref="InstructionRetired"/> for every instruction (a trace). When false the
    /// CPU keeps its fast path (and compiled blocks) and reports retired instructions in runs through
    /// <see cref="InstructionsRetired"/>; far transfers, faults and native calls are reported either way.
    /// </summary>
    bool PerInstruction => true;

    /// <summary>An instruction at <paramref name="ip"/> (cpl as before it ran) retired.</summary>
    void InstructionRetired(Cpu cpu, ulong ip, int cpl);

    /// <summary>
    /// <paramref name="count"/> instructions retired at <paramref name="cpl"/> (as before each ran), for an observer
    /// that does not want them one by one.
    /// </summary>
    void InstructionsRetired(Cpu cpu, long count, int cpl) { }

    void FarTransfer(Cpu cpu, FarTransfer transfer);

    /// <summary>An exception was raised (before it is delivered).</summary>
    void Fault(Cpu cpu, CpuFault fault);

    /// <summary>Execution reached an address bound to a native (C#) function.</summary>
    void NativeCall(Cpu cpu, ulong address, string name);
}
