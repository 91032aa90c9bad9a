using SyscallTools.Core.Cpu;

namespace SyscallTools.Core.Linux;

/// <summary>What running arbitrary user code did.</summary>
public sealed record UserRunResult
{
    public required string Outcome { get; init; }
    public required RegisterSnapshot After { get; init; }
    public string? Signal { get; init; }
    public CpuFault? Fault { get; init; }
    public string? Oops { get; init; }
    public bool TaskExited { get; init; }
    public int? ExitStatus { get; init; }
    /// <summary>The record of the last kernel entry (exit decision, C functions).</summary>
    public KernelCallRecord? LastKernelEntry { get; init; }
    /// <summary>Every entry into the kernel from user mode, in order.</summary>
    public IReadOnlyList<KernelCallRecord> KernelEntries { get; init; } = [];
    public string? LastExitInstruction { get; init; }
    public long UserInstructions { get; init; }
    public long KernelInstructions { get; init; }
    public IReadOnlyList<TraceEvent>? Trace { get; init; }
    public string Stdout { get; init; } = "";
}

public sealed partial class LinuxMachine
{
    /// <summary>
    /// Runs user code in the task until it exits, is killed, blocks, the kernel oopses, it runs off the end of the
    /// code, or the budget is spent. <paramref name="setup"/> may set registers first (RSP starts where exec left it).
    /// </summary>
    public UserRunResult RunUserCode(byte[] code, Action<Cpu.Cpu>? setup = null, long budget = 1_000_000, bool trace = false,
        CancellationToken cancel = default)
    {
        if (Task.Exited) throw new InvalidOperationException("The task has already exited; make a new machine.");
        if (code.Length > 0x7000) throw new ArgumentException("User code is limited to 28 KiB.", nameof(code));
        AbandonKernelPath();
        PlaceUserCode(InvokeCode, code);
        ulong end = InvokeCode + (ulong)code.Length;
        Cpu.Rip = InvokeCode;
        Cpu[Gpr.Rsp] = InitialStackPointer;
        setup?.Invoke(Cpu);
        var (run, observer) = RunObserved(end, budget, trace, cancel);
        string outcome = run.Reason == StopReason.Stopped && Cpu.Rip == end ? "ran to the end of the code" : run.ToString();
        return new UserRunResult
        {
            Outcome = outcome,
            After = observer.KilledWith ?? RegisterSnapshot.Of(Cpu),
            Signal = observer.Entries.Select(e => e.Signal).LastOrDefault(x => x is not null) is int s ? Signal.Name(s) : null,
            Fault = run.Fault ?? observer.UserFault,
            Oops = observer.Entries.Select(e => e.Oops).FirstOrDefault(x => x is not null) ?? Current.Oops,
            TaskExited = Task.Exited,
            ExitStatus = Task.Exited ? Task.ExitStatus : null,
            LastKernelEntry = Current,
            KernelEntries = observer.Entries.ToArray(),
            LastExitInstruction = observer.ExitTransfer?.Instruction is string x ? (x.StartsWith("IRET", StringComparison.Ordinal) ? "IRET" : x) : null,
            UserInstructions = observer.User,
            KernelInstructions = observer.Kernel,
            Trace = observer.Events,
            Stdout = Task.Stdout,
        };
    }

    /// <summary>
    /// Loads a static ELF program's PT_LOAD segments over the task's text and data (exec's layout already maps them)
    /// and runs it from its entry with the stack exec left, until it exits, is killed, blocks, oopses or the budget
    /// runs out.
    /// </summary>
    public UserRunResult RunProgram(Elf.ElfReader program, long budget = 5_000_000, CancellationToken cancel = default)
    {
        if (Task.Exited) throw new InvalidOperationException("The task has already exited; make a new machine.");
        if (program.Type != Elf.ElfType.ET_EXEC || (program.Class == Elf.ElfClass.ELFCLASS64) != (Task.Bitness == 64))
            throw new ArgumentException($"A {Task.Bitness}-bit task runs a static {Task.Bitness}-bit ELF executable.", nameof(program));
        AbandonKernelPath();
        foreach (var seg in program.LoadSegments)
        {
            for (ulong p = seg.VirtualAddress & ~0xFFFUL; p < seg.VirtualAddress + seg.MemorySize; p += 0x1000)
                if (!Memory.IsMapped(p)) throw new ArgumentException($"Segment at 0x{seg.VirtualAddress:x} lies outside the task's text and data mappings.", nameof(program));
            Memory.WriteBytes(seg.VirtualAddress, seg.Bytes.Span);
        }
        Cpu.Rip = program.Entry;
        Cpu[Gpr.Rsp] = InitialStackPointer;
        // Never reached: the run ends when the task does.
        var (run, observer) = RunObserved(ulong.MaxValue, budget, false, cancel);
        return new UserRunResult
        {
            Outcome = run.ToString(),
            After = observer.KilledWith ?? RegisterSnapshot.Of(Cpu),
            Signal = Task.KilledBy is int k ? Signal.Name(k) : null,
            Fault = run.Fault ?? observer.UserFault,
            Oops = observer.Entries.Select(e => e.Oops).FirstOrDefault(x => x is not null) ?? Current.Oops,
            TaskExited = Task.Exited,
            ExitStatus = Task.Exited ? Task.ExitStatus : null,
            LastKernelEntry = Current,
            KernelEntries = observer.Entries.ToArray(),
            UserInstructions = observer.User,
            KernelInstructions = observer.Kernel,
            Stdout = Task.Stdout,
        };
    }
}
