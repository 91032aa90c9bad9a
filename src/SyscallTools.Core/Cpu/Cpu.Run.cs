using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu;

/// <summary>The interpreter loop: blocks from the decode cache, faults delivered as the hardware delivers them.</summary>
public sealed partial class Cpu
{
    /// <summary>
    /// When true (the default) a fault is delivered through the IDT as hardware does. When false the run
    /// stops at the fault with state as it was before the faulting instruction — for testing user code
    /// without a kernel.
    /// </summary>
    public bool DeliverFaults { get; set; } = true;

    private bool _stopRequested;
    private string _stopMessage = "";

    /// <summary>Asks the current run to stop after the current instruction or native call.</summary>
    public void RequestStop(string message)
    {
        _stopRequested = true;
        _stopMessage = message;
        BreakBlock = true;
    }

    /// <summary>Raised faults, most recent last, for this run (bounded).</summary>
    public CpuFault? LastFault { get; private set; }

    /// <summary>Runs until the budget is spent, HLT, a stop, an undelivered fault, or shutdown.</summary>
    public RunResult Run(long maxInstructions, CancellationToken cancel = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxInstructions);
        long executed = 0;
        _stopRequested = false;
        _stopMessage = "";
        _halted = false;
        int cancelPoll = 0;
        while (executed < maxInstructions)
        {
            if (_stopRequested) return new RunResult(StopReason.Stopped, executed, null, _stopMessage);
            if (++cancelPoll >= 4096)
            {
                cancelPoll = 0;
                if (cancel.IsCancellationRequested) return new RunResult(StopReason.Cancelled, executed, null, "cancelled");
            }
            // A SYSRET that loaded TF left a single-step trap pending at this instruction boundary (see _stepTrapPending).
            if (_stepTrapPending && TakeStepTrap() is { } stepTrap)
            {
                LastFault = stepTrap;
                Observer?.Fault(this, stepTrap);
                if (!DeliverFaults) return new RunResult(StopReason.Fault, executed, stepTrap, stepTrap.ToString());
                if (!RaiseException(stepTrap, Rip))
                    return new RunResult(StopReason.Shutdown, executed, stepTrap, "triple fault: the processor shut down");
                continue;
            }
            Op? current = null;
            try
            {
                var block = _pendingBlock is { } pb && pb.Start == Rip && pb.Valid && pb.Mode == Mode && pb.CsBase == CodeBase ? pb : GetBlock(Rip);
                _pendingBlock = null;
                if (block.IsStop && executed > 0)
                    return new RunResult(StopReason.Stopped, executed, null, $"reached stop address 0x{Rip:x}");
                if (block.Native is { } native)
                {
                    Observer?.NativeCall(this, Rip, native.Name);
                    native.Body(this);
                    NativeCalls++;
                    executed++;
                    continue;
                }
                if ((FlagsRest & (RFlags.TF | RFlags.RF)) == 0 && Shadow == 0 && Observer is not { PerInstruction: true })
                {
                    // Fast path: straight through blocks until something needs a look between instructions.
                    ulong before = InstructionsRetired + NativeCalls;
                    _countMark = InstructionsRetired;
                    _countCpl = Cpl;
                    try { RunFast(block, maxInstructions - executed); }
                    finally
                    {
                        executed += (long)(InstructionsRetired + NativeCalls - before);
                        ReportRetired();
                    }
                    _currentIndex = -1;
                }
                else
                {
                    var op = block.Ops[0];
                    current = op;
                    var trap = StepSlow(op);
                    executed++;
                    current = null;
                    if (trap is not null)
                    {
                        LastFault = trap;
                        Observer?.Fault(this, trap);
                        if (!DeliverFaults) return new RunResult(StopReason.Fault, executed, trap, trap.ToString());
                        if (!RaiseException(trap, Rip))
                            return new RunResult(StopReason.Shutdown, executed, trap, "triple fault: the processor shut down");
                    }
                }
                current = null;
                if (_halted) return new RunResult(StopReason.Halted, executed, null, $"HLT at 0x{Rip:x}");
            }
            catch (CpuFaultException e)
            {
                current ??= CurrentFastOp();
                _currentIndex = -1;
                var fault = e.Fault with { Rip = current?.Ip ?? Rip, Cpl = Cpl };
                if (current is not null) Rip = current.Ip;
                LastFault = fault;
                Observer?.Fault(this, fault);
                if (!DeliverFaults) return new RunResult(StopReason.Fault, executed, fault, fault.ToString());
                if (!RaiseException(fault, Rip))
                    return new RunResult(StopReason.Shutdown, executed, fault, "triple fault: the processor shut down");
            }
            finally
            {
                _running = null;
                _runningSerial = 0;
            }
        }
        return new RunResult(StopReason.BudgetExhausted, executed, null, $"budget of {maxInstructions} instructions spent");
    }

    internal bool _halted;

    /// <summary>
    /// Where in <see cref="_running"/> the fast path is, so a fault can be pinned on its instruction (-1: between
    /// blocks). An index, not the Op itself: a reference store per instruction costs a GC write barrier.
    /// </summary>
    private int _currentIndex = -1;

    private Op? CurrentFastOp() => _currentIndex >= 0 && _running is { } b && _currentIndex < b.Ops.Length ? b.Ops[_currentIndex] : null;

    /// <summary>
    /// The hot loop: executes blocks back to back while nothing asks for attention (a flag change, a native
    /// function, a stop address, HLT, the budget). Faults propagate to <see cref="Run"/> with <see cref="_currentIndex"/> set.
    /// </summary>
    private void RunFast(Block block, long room)
    {
        ulong end = InstructionsRetired + NativeCalls + (ulong)room;
        var observer = Observer;
        // The running block is noted by its serial number (a plain store; a reference store per block costs a GC write
        // barrier), and as the object only when a fault leaves it, by the filter, before anything unwinds.
        try
        {
        while (true)
        {
            // A counting observer hears of the previous block's instructions, at the ring they ran in.
            if (observer is not null) ReportRetired();
            _runningSerial = block.Serial;
            BreakBlock = false;
            var ops = block.Ops;
            ulong left = end - InstructionsRetired - NativeCalls;
            if (block.Compiled is null && !block.NoCompile && CompileThreshold >= 0 && ++block.Heat > CompileThreshold) Compile(block);
            if (block.Compiled is { } compiled && left >= (ulong)ops.Length)
            {
                // The whole block (and its iterations, if it loops on itself) fits in the budget: run the translation.
                compiled(this, left);
            }
            else
            {
                int limit = (ulong)ops.Length < left ? ops.Length : (int)left;
                for (int k = 0; k < limit; k++)
                {
                    var op = ops[k];
                    _currentIndex = k;
                    Rip = op.Next;
                    op.Run(this, op);
                    InstructionsRetired++;
                    if (BreakBlock || Rip != op.Next) break;
                }
            }
            if (InstructionsRetired + NativeCalls >= end || _halted || _stopRequested) return;
            // A break (a far transfer, a flag or code change) only needs the slow path if something now wants a look
            // between instructions; otherwise carry on with the next block, which GetBlock re-validates.
            if (BreakBlock && ((FlagsRest & (RFlags.TF | RFlags.RF)) != 0 || Shadow != 0 || Observer is { PerInstruction: true })) return;
            // A fetch fault on the next block belongs to its address, not to the branch that led there.
            _currentIndex = -1;
            block = GetBlock(Rip);
            // Native functions run right here (a counting observer hears of each, as on the slow path).
            while (block.Native is { } native && !block.IsStop)
            {
                if (observer is not null) { ReportRetired(); observer.NativeCall(this, Rip, native.Name); }
                native.Body(this);
                NativeCalls++;
                if (InstructionsRetired + NativeCalls >= end || _halted || _stopRequested) return;
                block = GetBlock(Rip);
            }
            if (block.IsStop || ++_blocksSincePoll >= 4096) { _blocksSincePoll = 0; _pendingBlock = block; return; }
        }
        }
        catch (CpuFaultException) when (NoteRunning(block))
        {
            throw;   // not reached: the filter only notes the block
        }
    }

    private bool NoteRunning(Block block)
    {
        _running = block;
        return false;
    }

    /// <summary>The retired count when a counting observer was last told, and the ring the instructions since then ran in.</summary>
    private ulong _countMark;
    private int _countCpl;

    /// <summary>Tells a counting observer how many instructions retired since it was last told; the next ones run at the current CPL.</summary>
    private void ReportRetired()
    {
        if (Observer is { } o && InstructionsRetired != _countMark) o.InstructionsRetired(this, (long)(InstructionsRetired - _countMark), _countCpl);
        _countMark = InstructionsRetired;
        _countCpl = Cpl;
    }

    /// <summary>Native (C#) functions run so far; each counts as one step against a run's budget.</summary>
    public ulong NativeCalls { get; private set; }

    private int _blocksSincePoll;
    private Block? _pendingBlock;

    /// <summary>One instruction with everything the fast path skips: TF traps, RF, shadows, the observer. Returns a pending single-step trap.</summary>
    private CpuFault? StepSlow(Op op)
    {
        bool trap = (FlagsRest & RFlags.TF) != 0 && (Shadow & ShadowMovSs) == 0;
        Shadow = 0;
        int cpl = Cpl;
        // RF suppresses instruction breakpoints for one instruction, then clears; an instruction that
        // loads RF (IRET, POPF) sets it again for the next one.
        FlagsRest &= ~RFlags.RF;
        Rip = op.Next;
        _suppressTrap = false;
        op.Run(this, op);
        InstructionsRetired++;
        Observer?.InstructionRetired(this, op.Ip, cpl);
        if (_stepTrapPending) return null;   // taken at the next boundary, by Run
        if (!trap || _suppressTrap) return null;
        // Single-step is a trap: reported after the instruction, with RIP at the next one.
        Dr6 |= Dr6Bs;
        return new CpuFault { Vector = Vector.DB, Rip = Rip, Cpl = Cpl, Reason = "single-step trap (TF)" };
    }

    /// <summary>
    /// Set by an instruction after which a single-step trap is pending even though TF was clear when it began: SYSRET
    /// loading TF from R11. Run takes it before the next instruction (or at the start of the next run when the budget
    /// ended exactly there). "SYSRET can restore TF, but unlike IRET, restoring TF results in a trap from userspace
    /// immediately after SYSRET" (arch/x86/entry/entry_64.S; the reason every opportunistic SYSRET refuses TF).
    /// </summary>
    internal bool _stepTrapPending;
    /// <summary>Where that SYSRET went: a pending trap is taken only there, not after state set from outside moved on.</summary>
    internal ulong _stepTrapRip;

    private CpuFault? TakeStepTrap()
    {
        _stepTrapPending = false;
        if ((FlagsRest & RFlags.TF) == 0 || Rip != _stepTrapRip) return null;
        Dr6 |= Dr6Bs;
        return new CpuFault { Vector = Vector.DB, Rip = Rip, Cpl = Cpl, Reason = "single-step trap (TF loaded by SYSRET)" };
    }

    /// <summary>Set by instructions after which no single-step trap is taken (they clear TF as part of a control transfer).</summary>
    internal bool _suppressTrap;

    /// <summary>DR6 as the #DB handler reads it; BS marks a single-step trap.</summary>
    public ulong Dr6 { get; set; }
    public const ulong Dr6Bs = 1UL << 14;
}
