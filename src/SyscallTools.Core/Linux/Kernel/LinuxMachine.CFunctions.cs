using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux.Boot;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Core.Linux.Syscalls;
using SyscallTools.Core.Memory;
using static SyscallTools.Core.Linux.SignalFrames;

namespace SyscallTools.Core.Linux;

/// <summary>
/// The kernel's C functions (arch/x86/entry/common.c, syscall_64.c, syscall_32.c, kernel/entry/common.c,
/// traps.c), as C# bound to addresses in kernel text. They are called by the stubs with the kernel's C calling
/// convention — rdi, rsi, rdx… on 64-bit kernels, regparm(3) eax, edx, ecx on 32-bit ones — and return in
/// rax/eax, then the binding performs the `ret`.
/// </summary>
public sealed partial class LinuxMachine
{
    private readonly Dictionary<string, ulong> _functions = new();

    /// <summary>The record of the entry in progress (reset by the caller of a run).</summary>
    public KernelCallRecord Current { get; internal set; } = new();

    internal ulong Function(string name) => _functions[name];

    /// <summary>Argument <paramref name="i"/> of the C call in progress.</summary>
    private ulong Arg(int i) => KernelBits == 64
        ? Cpu[i switch { 0 => Gpr.Rdi, 1 => Gpr.Rsi, 2 => Gpr.Rdx, 3 => Gpr.Rcx, 4 => Gpr.R8, _ => Gpr.R9 }]
        : (uint)Cpu[i switch { 0 => Gpr.Rax, 1 => Gpr.Rdx, _ => Gpr.Rcx }];

    private void BindC(string name, Func<ulong> body)
    {
        ulong at = Layout.Functions + (ulong)(16 * _functions.Count);
        _functions[name] = at;
        SetSymbol(at, name);
        Cpu.BindNative(at, name, cpu =>
        {
            // A long run without a caller resetting the record keeps only the recent calls.
            if (Current.CFunctions.Count >= 256) Current.CFunctions.Clear();
            Current.CFunctions.Add(name);
            ulong ret;
            try { ret = body(); }
            catch (InvalidOperationException e)
            {
                // A C function touched memory that is not there: the model's equivalent of an oops.
                Oops($"{name}: {e.Message}");
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A fault in the model itself must not escape as a host exception: report it as what it is.
                Oops($"{name}: internal model error ({e.GetType().Name}: {e.Message}) — please report it");
                return;
            }
            int w = KernelBits / 8;
            ulong sp = cpu[Gpr.Rsp];
            ulong retAddr = w == 8 ? Memory.ReadUInt64(sp) : Memory.ReadUInt32(sp);
            cpu[Gpr.Rsp] = sp + (ulong)w;
            if (w == 8) cpu[Gpr.Rax] = ret; else cpu[Gpr.Rax] = (uint)ret;
            cpu.Rip = retAddr;
        });
    }

    private PtRegs? _ptRegsCache;
    private readonly ExitMemo _exitMemo = new();
    private bool _hasSep;

    /// <summary>The pt_regs at an address; the one at the top of the kernel stack is made once.</summary>
    private PtRegs RegsAt(ulong address) =>
        _ptRegsCache is { } c && c.Address == address ? c : address == PtRegsAddress ? (_ptRegsCache = new(Memory, address, KernelBits)) : new(Memory, address, KernelBits);

    private void BindCFunctions()
    {
        Memory.Map(Layout.Functions, 0x2000, PageFlags.KernelCode);
        Memory.WriteBytes(Layout.Functions, Enumerable.Repeat((byte)0xCC, 0x2000).ToArray()); // never executed: int3

        BindC("do_syscall_64", () => DoSyscall64(RegsAt(Arg(0)), (long)Arg(1)) ? 1UL : 0UL);
        BindC("do_fast_syscall_32", () => DoFastSyscall32(RegsAt(Arg(0))) ? 1UL : 0UL);
        BindC("do_SYSENTER_32", () =>
        {
            var regs = RegsAt(Arg(0));
            regs.Sp = regs.Bp;                       // "SYSENTER loses RSP, but the vDSO saved it in RBP"
            regs.Flags |= RFlags.IF;                 // "SYSENTER clobbers EFLAGS.IF. Assume it was set in usermode."
            return DoFastSyscall32(regs) ? 1UL : 0UL;
        });
        BindC("do_int80_emulation", () => { DoInt80Emulation(RegsAt(Arg(0))); return 0; });
        BindC("do_syscall_32_irqs_off", () => { DoSyscall32IrqsOff(RegsAt(Arg(0))); return 0; });
        BindC("do_int80_syscall_32", () => { DoSyscall32IrqsOff(RegsAt(Arg(0))); return 0; });
        BindC("syscall_trace_enter", () => (ulong)SyscallTraceEnter(RegsAt(Arg(0))));
        BindC("syscall_return_slowpath", () =>
        {
            var regs = RegsAt(Arg(0));
            // Pre-rewrite paths arrive here because work was pending: that is their exit decision.
            if (Current.Exit is null) RecordExit(regs, slowPath: true);
            ExitToUserMode(regs);
            return 0;
        });
        BindC("opportunistic_sysret_ok", () =>
        {
            var d = RecordExit(RegsAt(Arg(0)), slowPath: true);
            return d.Fast ? 1UL : 0UL;
        });
        BindC("exc_handler", () => ExceptionHandler(RegsAt(Arg(0)), Arg(1), (int)Arg(2)).Address);
        BindC("sync_regs", () => SyncRegs(Arg(0)));
        BindC("sys_ni_syscall", () => unchecked((ulong)-Errno.ENOSYS));
        foreach (var abi in KernelBits == 64 ? new[] { SyscallAbi.X86_64, SyscallAbi.I386 } : [SyscallAbi.I386])
        {
            foreach (var row in SyscallTable.For(abi).Rows)
            {
                var r = row;
                string prefix = abi == SyscallAbi.X86_64 ? "__x64_sys_" : "__ia32_sys_";
                BindC(prefix + row.Name, () =>
                {
                    var ctx = ContextFor(abi, r.Number, PtRegs);
                    var args = ctx.ArgBuffer;
                    for (int i = 0; i < 6; i++) args[i] = KernelBits == 64 ? Arg(i) : StackArg(i);
                    if (abi == SyscallAbi.I386) for (int i = 0; i < 6; i++) args[i] = (uint)args[i];
                    return (ulong)RunHandler(r, ctx);
                });
            }
        }
    }

    /// <summary>32-bit kernels call table entries with the arguments on the stack (asmlinkage).</summary>
    private ulong StackArg(int i) => Memory.ReadUInt32(Cpu[Gpr.Rsp] + 4 + (ulong)(4 * i));

    private void WriteSyscallTables()
    {
        int w = KernelBits / 8;
        void Fill(ulong table, SyscallAbi abi)
        {
            string prefix = abi == SyscallAbi.X86_64 ? "__x64_sys_" : "__ia32_sys_";
            for (int nr = 0; nr < SyscallTable.NrSyscalls; nr++)
            {
                var row = SyscallTable.For(abi).ByNumber(nr);
                ulong fn = Function(row is null ? "sys_ni_syscall" : prefix + row.Name);
                // Pre-6.x 64-bit tables send rt_sigreturn through its ptregs stub.
                if (row?.Name == "rt_sigreturn" && abi == SyscallAbi.X86_64 && Stubs.Symbols.TryGetValue("stub_rt_sigreturn", out var stub)) fn = stub;
                if (w == 8) Memory.WriteUInt64(table + (ulong)(8 * nr), fn); else Memory.WriteUInt32(table + (ulong)(4 * nr), (uint)fn);
            }
        }
        if (KernelBits == 64)
        {
            Fill(Layout.SysCallTable, SyscallAbi.X86_64);
            Fill(Layout.Ia32SysCallTable, SyscallAbi.I386);
        }
        else
        {
            Fill(Layout.SysCallTable, SyscallAbi.I386);
        }
    }

    // ------------------------------------------------------------------ the C entry code

    /// <summary>do_syscall_64 (6.x): dispatch, exit work, then true for SYSRETQ, false for IRET.</summary>
    private bool DoSyscall64(PtRegs regs, long nr)
    {
        Current.Entry = EntryKind.Syscall64;
        // do_syscall_64(regs, int nr): the asm passed EAX sign-extended, so RAX[63:32] never matters.
        int n = (int)SyscallEnterFromUserMode(regs, (int)nr);
        if ((uint)n < SyscallTable.NrSyscalls) regs.Ax = (ulong)Dispatch(SyscallAbi.X86_64, n, regs);
        else if (n != -1) regs.Ax = unchecked((ulong)-Errno.ENOSYS);
        return SyscallExitToUserMode(regs);
    }

    /// <summary>do_fast_syscall_32: the common path of both fast 32-bit entries.</summary>
    private bool DoFastSyscall32(PtRegs regs)
    {
        if (Current.Entry == EntryKind.None) Current.Entry = EntryKind.Sysenter;
        ulong landing = LandingPad;
        // SYSENTER lost EIP, and SYSCALL32's must move forward so that "ip -= 2" restarts through int $0x80.
        regs.Ip = landing;
        // The 2015 design proposals' status bits (read only by their models): a fast entry, nothing rewritten yet.
        Task.FastSyscall = true;
        Task.PtRegsWritten = false;
        int nr = (int)regs.OrigAx;
        Task.TsCompat = KernelBits == 64;
        // Fetch EBP (the 6th argument) from the user stack before any entry work, so tracers see it.
        if (!UserMemory.TryReadUInt32((uint)regs.Sp, out uint ebp))
        {
            Current.ArgFetchFailed = true;
            regs.Ax = unchecked((ulong)-Errno.EFAULT);
            SyscallExitToUserMode(regs);
            return false;
        }
        regs.Bp = ebp;
        nr = (int)SyscallEnterFromUserMode(regs, nr);
        DoSyscall32IrqsOn(regs, nr);
        return SyscallExitToUserMode(regs, mayBypass: true);
    }

    /// <summary>do_int80_emulation (6.7+): orig_ax from ax, ax = -ENOSYS, then the 32-bit dispatch; always IRET.</summary>
    private void DoInt80Emulation(PtRegs regs)
    {
        Current.Entry = EntryKind.Int80;
        if (!regs.UserMode) { Oops("Unexpected external interrupt 0x80"); return; }
        regs.OrigAx = regs.Ax & 0xFFFF_FFFF;
        regs.Ax = unchecked((ulong)-Errno.ENOSYS);
        Task.TsCompat = KernelBits == 64;
        int nr = (int)SyscallEnterFromUserMode(regs, (int)regs.OrigAx);
        DoSyscall32IrqsOn(regs, nr);
        SyscallExitToUserMode(regs);
    }

    /// <summary>do_syscall_32_irqs_off (v4.4) / do_int80_syscall_32: the INT 0x80 entry's C side; always IRET.</summary>
    private void DoSyscall32IrqsOff(PtRegs regs)
    {
        Current.Entry = EntryKind.Int80;
        Task.TsCompat = KernelBits == 64;
        int nr = (int)(uint)regs.OrigAx;
        if ((Task.Flags & ThreadFlags.WorkSyscallEntry) != 0) nr = (int)(uint)SyscallTraceEnter(regs);
        DoSyscall32IrqsOn(regs, nr);
        SyscallExitToUserMode(regs);
    }

    /// <summary>
    /// syscall_exit_to_user_mode and the exit policy, shared by every C entry: true when the policy allows the fast
    /// exit. A call that blocked (the task sleeps inside it) has no exit yet: no exit work, no exit stop, no decision.
    /// </summary>
    private bool SyscallExitToUserMode(PtRegs regs, bool mayBypass = false)
    {
        if (Current.Blocked is not null) return false;
        if (mayBypass && Model.SkipsSlowExit(Task.Flags))
        {
            // The exit-work-bypass design (after a fast 32-bit call): "if (!(ti->flags & _TIF_SYSCALL_EXIT_WORK)) return
            // true;" — no exit work, no exit-to-user-mode loop (signals!), no checks.
            ClearSyscallStatus();
            return RecordExit(regs, slowPath: false).Fast;
        }
        ExitToUserMode(regs);
        return RecordExit(regs, slowPath: true).Fast;
    }

    /// <summary>do_syscall_32_irqs_on: (unsigned)nr below IA32_NR_syscalls dispatches with the six 32-bit arguments zero-extended.</summary>
    private void DoSyscall32IrqsOn(PtRegs regs, int nr)
    {
        if ((uint)nr < SyscallTable.NrSyscalls) regs.Ax = (ulong)Dispatch(SyscallAbi.I386, nr, regs);
        else if (nr != -1) regs.Ax = unchecked((ulong)-Errno.ENOSYS);
    }

    /// <summary>Looks up the row and runs the handler with the ABI's argument registers from pt_regs.</summary>
    private long Dispatch(SyscallAbi abi, int nr, PtRegs regs)
    {
        Current.Number = nr;
        var row = SyscallTable.For(abi).ByNumber(nr);
        if (row is null) { Current.Return = -Errno.ENOSYS; return -Errno.ENOSYS; }
        var ctx = ContextFor(abi, row.Number, regs);
        var args = ctx.ArgBuffer;
        if (abi == SyscallAbi.I386)
            (args[0], args[1], args[2], args[3], args[4], args[5]) = ((uint)regs.Bx, (uint)regs.Cx, (uint)regs.Dx, (uint)regs.Si, (uint)regs.Di, (uint)regs.Bp);
        else
            (args[0], args[1], args[2], args[3], args[4], args[5]) = (regs.Di, regs.Si, regs.Dx, regs.R10, regs.R8, regs.R9);
        return RunHandler(row, ctx);
    }

    private SyscallContext? _idleContext;

    /// <summary>
    /// The context for a handler: the machine's one re-used context (no allocation per system call), or a fresh one
    /// while it is lent out — a handler that runs another (restart_syscall) must not see its arguments overwritten.
    /// </summary>
    private SyscallContext ContextFor(SyscallAbi abi, int number, PtRegs regs)
    {
        var ctx = _idleContext ?? new SyscallContext(this, abi, number, new ulong[6], regs);
        _idleContext = null;
        ctx.Reset(abi, number, regs);
        return ctx;
    }

    private long RunHandler(SyscallRow row, SyscallContext ctx)
    {
        Current.Number = row.Number;
        long ret;
        try { ret = row.Handler(ctx); }
        finally { _idleContext = ctx; }
        Current.Return = ret;
        if (Task.Exited) Cpu.RequestStop($"task exited with status {Task.ExitStatus}");
        // On a 32-bit kernel the value travels in a 32-bit register; sign-extend so the record reads as a long.
        return KernelBits == 32 ? (int)ret : ret;
    }

    /// <summary>syscall_enter_from_user_mode / syscall_trace_enter: entry work when any _TIF_WORK_SYSCALL_ENTRY flag is set.</summary>
    private long SyscallEnterFromUserMode(PtRegs regs, long nr)
    {
        if ((Task.Flags & ThreadFlags.WorkSyscallEntry) == 0) return nr;
        return SyscallTraceEnter(regs);
    }

    /// <summary>The entry work itself: the ptrace syscall-entry stop, then the number re-read from orig_ax.</summary>
    private long SyscallTraceEnter(PtRegs regs)
    {
        // "If we stepped into a sysenter/syscall insn, it trapped in kernel mode; do_debug() cleared TF and set
        // TIF_SINGLESTEP" — put the user's TF back. The flag stays set until the exit (where it is also work that
        // sends the pre-rewrite fast paths to IRET, which restores TF).
        if ((Task.Flags & ThreadFlags.SingleStep) != 0) { regs.Flags |= RFlags.TF; Task.PtRegsWritten = true; }
        // The work flags are read once, before the stop: a tracer that drops SYSEMU at this stop still gets it skipped.
        bool emulate = (Task.Flags & ThreadFlags.SyscallEmu) != 0;
        if ((Task.Flags & (ThreadFlags.SyscallTrace | ThreadFlags.SyscallEmu)) != 0) Tracer.Stop(Ptrace.PtraceStopKind.SyscallEntry, regs);
        EntryWork?.Invoke(this, regs);
        // PTRACE_SYSEMU: the call is not run.
        if (emulate) return -1;
        return KernelBits == 64 && Task.Bitness == 64 ? (long)regs.OrigAx : (int)regs.OrigAx;
    }

    /// <summary>A hook for syscall-entry work (the tracer model attaches here).</summary>
    public Action<LinuxMachine, PtRegs>? EntryWork { get; set; }

    /// <summary>A hook for syscall-exit work before the return to user mode.</summary>
    public Action<LinuxMachine, PtRegs>? ExitWork { get; set; }

    /// <summary>syscall_exit_to_user_mode / prepare_exit_to_usermode: exit work, then the loop over _TIF_* work.</summary>
    private void ExitToUserMode(PtRegs regs, bool syscallExit = true)
    {
        Current.SlowExit = true;
        // report_single_step(): a tracer single-stepping the task hears of the syscall instruction at its exit, as a
        // SIGTRAP — unless SYSEMU is set (PTRACE_SYSEMU_SINGLESTEP), whose entry stop already reported it.
        // syscall_exit_work runs only on the way out of a system call, never after an exception (irqentry_exit_to_user_mode).
        bool inSyscall = syscallExit && Current.Entry is not (EntryKind.Exception or EntryKind.None);
        bool step = inSyscall && Tracer.Attached && Tracer.SingleStep && (Task.Flags & ThreadFlags.SyscallEmu) == 0;
        if (syscallExit && (Task.Flags & ThreadFlags.SyscallExitWork) != 0 || step)
        {
            if (step)
            {
                // user_single_step_report() → send_sigtrap(regs, 0, TRAP_BRKPT): trap_nr = X86_TRAP_DB, error code 0,
                // si_addr = the user IP.
                ForceTrapSignal(Signal.SIGTRAP, (Vector.DB, 0, 0, TrapBrkpt, regs.Ip));
            }
            // syscall_exit_work: no exit stop after PTRACE_SYSEMU skipped the call; the step report replaces it.
            // exit and exit_group never return: do_exit() runs inside the call, so there is no exit stop either.
            else if ((Task.Flags & ThreadFlags.SyscallTrace) != 0 && (Task.Flags & ThreadFlags.SyscallEmu) == 0 && inSyscall && !Task.Exited)
                Tracer.Stop(Ptrace.PtraceStopKind.SyscallExit, regs);
            ExitWork?.Invoke(this, regs);
        }
        for (int guard = 0; guard < 64 && !Task.Exited; guard++)
        {
            var f = Task.Flags;
            if ((f & ThreadFlags.ExitToUserModeLoop) == 0) break;
            if ((f & ThreadFlags.NeedResched) != 0) Task.Flags &= ~ThreadFlags.NeedResched;
            if ((f & ThreadFlags.NotifyResume) != 0) Task.Flags &= ~ThreadFlags.NotifyResume;
            if ((f & (ThreadFlags.Uprobe | ThreadFlags.UserReturnNotify)) != 0) Task.Flags &= ~(ThreadFlags.Uprobe | ThreadFlags.UserReturnNotify);
            if ((f & ThreadFlags.SigPending) != 0) DoSignal(regs);
        }
        // TIF_SINGLESTEP from a step into SYSENTER has done its job once the call returns: a later call must not
        // bring TF back (nothing here single-steps on a tracer's behalf through this flag).
        if ((Task.Flags & ThreadFlags.SingleStep) != 0) Task.Flags &= ~ThreadFlags.SingleStep;
        // PTRACE_SINGLESTEP: the kernel sets TF for the tracer (and takes it away when the tracer stops stepping).
        if (Tracer.SingleStep && Tracer.Attached)
        {
            if ((regs.Flags & RFlags.TF) == 0) { Tracer.ForcedTf = true; Task.PtRegsWritten = true; }
            regs.Flags |= RFlags.TF;
        }
        else if (Tracer.ForcedTf)
        {
            regs.Flags &= ~RFlags.TF;
            Tracer.ForcedTf = false;
        }
        ClearSyscallStatus();
        if (KernelBits == 64 && (regs.Ss & 4) != 0) MapEspfixAlias(regs.Sp);
    }

    /// <summary>
    /// force_iret(): the user registers in pt_regs were rewritten on the task's behalf (a tracer's write, a signal frame,
    /// sigreturn), so the return must be able to restore anything. The released models decide from pt_regs itself;
    /// the 2015 design models read these status bits instead.
    /// </summary>
    internal void ForceIret()
    {
        Task.FastSyscall = false;
        Task.PtRegsWritten = true;
    }

    /// <summary>
    /// The espfix64 page tables map the frame page read-only at every ESPFIX_BASE_ADDR | (X &amp; 0xffff0000); the model
    /// materialises the one alias a return to this user RSP will IRET from (the exit asm computes the same address).
    /// </summary>
    private void MapEspfixAlias(ulong userSp) =>
        Memory.MapAlias(Layout.EspfixBaseFor(userSp), Layout.EspfixPage, PageFlags.NoExecute);

    /// <summary>TS_COMPAT and TS_I386_REGS_POKED end with the return to user mode (after signal handling: restart has a compat fixup).</summary>
    private void ClearSyscallStatus()
    {
        Task.TsCompat = false;
        Task.RegsPoked = false;
    }

    /// <summary>Evaluates the model's exit policy for the current entry on the final pt_regs and records it.</summary>
    internal ExitDecision RecordExit(PtRegs regs, bool slowPath)
    {
        var d = _exitMemo.Decide(Model, Current.Entry, regs, LandingPad, !Current.ArgFetchFailed, Task.Flags, _hasSep, slowPath,
            Task.FastSyscall, Task.PtRegsWritten);
        Current.Exit = d;
        // The copy of pt_regs is for whoever reads the record; without an observer nobody will.
        if (Cpu.Observer is not null) Current.PtRegsAtExit = regs.Snapshot();
        return d;
    }

    // ------------------------------------------------------------------ exceptions

    /// <summary>
    /// The exception table: kernel instructions allowed to fault, where they continue, and whether only a page fault
    /// (a user-memory access) qualifies or any fault does (segment loads, and a 32-bit kernel's IRET to user mode).
    /// </summary>
    private Dictionary<ulong, (ulong To, bool PageFaultOnly)>? _exceptionTable;

    /// <summary>The exception table, built once from the (immutable) stub symbols.</summary>
    private Dictionary<ulong, (ulong To, bool PageFaultOnly)> ExceptionTable() => _exceptionTable ??= BuildExceptionTable();

    private Dictionary<ulong, (ulong To, bool PageFaultOnly)> BuildExceptionTable()
    {
        var t = new Dictionary<ulong, (ulong, bool)>();
        void Add(string from, string to, bool pfOnly)
        {
            if (Stubs.Symbols.TryGetValue(from, out var at) && Stubs.Symbols.TryGetValue(to, out var fixup)) t[at] = (fixup, pfOnly);
        }
        // v4.2's asm fetches arg 6 with a plain load; its _ASM_EXTABLE entry sends a fault to the -EFAULT exit.
        string badarg = KernelBits == 64 ? "ia32_badarg" : "syscall_fault";
        Add("sysenter_fetch_arg6", badarg, true);
        Add("cstar_fetch_arg6", badarg, true);
        foreach (var seg in new[] { "ds", "es", "fs", "gs" }) Add($"restore_pop_{seg}", $"restore_pop_{seg}_fixup", false);
        Add("irq_return", "iret_exc", false);
        Add("sysexit_load_fs", "sysexit_load_fs_fixup", false);
        Add("sysexit_load_fs_v42", "sysexit_load_fs_v42_fixup", false);
        return t;
    }

    /// <summary>sync_regs (traps.c): copies a user-mode exception's pt_regs from the stack it arrived on to the top of the task's stack.</summary>
    private ulong SyncRegs(ulong from)
    {
        if (from != PtRegsAddress) Memory.WriteBytes(PtRegsAddress, Memory.ReadBytes(from, PtRegs.Size64));
        return PtRegsAddress;
    }

    /// <summary>
    /// traps.c / fault.c: user faults become signals; kernel faults are fixed up, ignored, or an oops. Returns the
    /// pt_regs the exception's exit continues with (a 64-bit kernel switches to them, as error_entry does).
    /// </summary>
    private PtRegs ExceptionHandler(PtRegs regs, ulong errorCode, int vector)
    {
        Current.CFunctions[^1] = vector == TrapIret ? "do_iret_error" : $"exc_handler({Vector.Mnemonic((byte)vector)})";
        if (!regs.UserMode)
        {
            if (ExceptionTable().TryGetValue(regs.Ip, out var fixup) && (!fixup.PageFaultOnly || vector == Vector.PF))
            {
                if (fixup.PageFaultOnly) Current.ArgFetchFailed = true;
                Current.CFunctions.Add($"fixup_exception({Symbolize(regs.Ip)} -> {Symbolize(fixup.To)})");
                regs.Ip = fixup.To;
                return regs;
            }
            if (vector == Vector.DB)
            {
                // A kernel-mode single step. v4.x do_debug(): "Single-stepping through system calls: ignore any exceptions
                // in kernel space, but re-enable TF when returning to user mode" — anywhere in the kernel, TF off in the
                // kernel frame and TIF_SINGLESTEP on (a step into SYSENTER lands here; so does a POPF of a user TF on the
                // 32-bit SYSEXIT path, which then loses it). 6.x only expects it in the SYSENTER entry
                // (is_sysenter_singlestep), which clears TF itself.
                bool step = (Cpu.Dr6 & SyscallTools.Core.Cpu.Cpu.Dr6Bs) != 0;
                string entry = KernelBits == 64 ? "entry_SYSENTER_compat" : "entry_SYSENTER_32";
                bool inSysenter = Stubs.Symbols.TryGetValue(entry, out var start)
                    && Stubs.Symbols.TryGetValue("__end_" + entry, out var end) && regs.Ip >= start && regs.Ip < end;
                if (Model.Generation != EntryGeneration.Modern ? step || inSysenter : inSysenter)
                {
                    if (Model.Generation != EntryGeneration.Modern)
                    {
                        regs.Flags &= ~RFlags.TF;
                        Task.Flags |= ThreadFlags.SingleStep;
                    }
                    Cpu.Dr6 = 0;                               // the handler reads and clears DR6
                    return regs;
                }
            }
            if (Stubs.Symbols.TryGetValue("native_irq_return_iret", out var iret) && regs.Ip == iret)
            {
                // do_double_fault(): "If IRET takes a non-IST fault on the espfix64 stack, then we end up promoting it
                // to a doublefault" — the exception frame cannot be pushed on the read-only alias. The kernel turns it
                // into the #GP(0) the user would have got; the real cause and error code are lost.
                if (vector == Vector.DF && (regs.Sp >> 39) == (KernelLayout.EspfixBase >> 39))
                {
                    Current.CFunctions.Add("do_double_fault: espfix64 IRET fault -> #GP(0)");
                    return FixupBadIret(regs, 0, Vector.GP);
                }
                return FixupBadIret(regs, errorCode, vector);
            }
            Oops($"{Vector.Mnemonic((byte)vector)} in kernel mode at {Symbolize(regs.Ip) ?? $"0x{regs.Ip:x}"} (error code 0x{errorCode:x})");
            return regs;
        }
        UserTrap(regs, errorCode, vector);
        return regs;
    }

    /// <summary>
    /// do_trap / do_general_protection etc. for a fault in user mode: the signal traps.c sends (#NP and #SS are SIGBUS,
    /// X86_TRAP_IRET SIGILL), with trapno and error code recorded for the frame, then the exit work that delivers it.
    /// </summary>
    private void UserTrap(PtRegs regs, ulong errorCode, int vector)
    {
        int sig = vector switch
        {
            Vector.DE or Vector.MF => Signal.SIGFPE,
            Vector.DB or Vector.BP => Signal.SIGTRAP,
            Vector.UD or TrapIret => Signal.SIGILL,
            Vector.AC or Vector.NP or Vector.SS => Signal.SIGBUS,
            _ => Signal.SIGSEGV,
        };
        int? siCode = null;
        ulong? addr = null;
        if (vector == Vector.DB)
        {
            // exc_debug_user(): DR6 is read and cleared; send_sigtrap(regs, 0, get_si_code(dr6)) — TRAP_TRACE for a
            // single step (DR6.BS), TRAP_BRKPT otherwise (ICEBP; no hardware breakpoints are modelled) — at the user IP.
            siCode = (Cpu.Dr6 & SyscallTools.Core.Cpu.Cpu.Dr6Bs) != 0 ? TrapTrace : TrapBrkpt;
            addr = regs.Ip;
            Cpu.Dr6 = 0;
            errorCode = 0;
        }
        else if (vector == Vector.UD) { siCode = IllIllopn; addr = regs.Ip; }   // do_error_trap(..., ILL_ILLOPN, at the instruction)
        else if (vector == Vector.DE) { siCode = FpeIntdiv; addr = regs.Ip; }   // do_error_trap(..., FPE_INTDIV, ...)
        else if (vector == Vector.AC) siCode = BusAdraln;                         // BUS_ADRALN, no address
        else if (vector == TrapIret) siCode = IllBadstk;                          // do_iret_error: ILL_BADSTK, no address
        // Exceptions without a hardware error code report 0 (the stub's -1 is only orig_ax's "not a syscall").
        if (!Vector.HasErrorCode(vector)) errorCode = 0;
        ForceTrapSignal(sig, (vector, errorCode, vector == Vector.PF ? Cpu.Cr2 : 0, siCode, addr));
        ExitToUserMode(regs, syscallExit: false);
    }

    /// <summary>
    /// fixup_bad_iret (64-bit kernels): the IRET to user mode faulted on a RIP, CS or SS that pt_regs asked for. The
    /// fault is the user's: a user-mode pt_regs is built at the top of the kernel stack from the IRET frame (still at
    /// the faulting frame's sp) and the general registers of the exception frame, and the exception is handled as if
    /// user mode had raised it — a handler for the signal sees the bad CS/SS/IP in its sigcontext.
    /// </summary>
    private PtRegs FixupBadIret(PtRegs regs, ulong errorCode, int vector)
    {
        Current.CFunctions.Add("fixup_bad_iret");
        const int hw = Entry.Regs64.RIP;
        var tmp = new byte[PtRegs.Size64];
        Memory.ReadBytes(regs.Address, hw).CopyTo(tmp, 0);
        Memory.ReadBytes(regs.Sp, PtRegs.Size64 - hw).CopyTo(tmp, hw);
        Memory.WriteBytes(PtRegsAddress, tmp);
        var user = RegsAt(PtRegsAddress);
        UserTrap(user, errorCode, vector);
        return user;
    }

    private void Oops(string what)
    {
        Current.Oops = what;
        Cpu.RequestStop("kernel oops: " + what);
    }
}
