using Iced.Intel;
using SyscallTools.Core.Cpu;
using static Iced.Intel.AssemblerRegisters;

namespace SyscallTools.Core.Linux;

/// <summary>Making one system call from user mode through a chosen entry, and reporting everything it did.</summary>
public sealed partial class LinuxMachine
{
    /// <summary>
    /// Where invocation code (and RunUserCode's code) is placed: in the task's text, or after an exec in a range of its
    /// own that exec reserved (the old place may lie inside the program's text, which a call site must not overwrite).
    /// </summary>
    public ulong UserCodeAddress => _userCodeAddress ?? UserText + 0x8000;

    private ulong? _userCodeAddress;

    private ulong InvokeCode => UserCodeAddress;

    /// <summary>Values the caller's registers hold when they carry no argument, so preservation is visible.</summary>
    public static ulong Sentinel(string reg, int taskBits) => reg switch
    {
        "bx" => taskBits == 32 ? 0x0B0B_0B0BUL : 0xB0B0_B0B0_0B0B_0B0BUL,
        "cx" => taskBits == 32 ? 0x0C0C_0C0CUL : 0xC0C0_C0C0_0C0C_0C0CUL,
        "dx" => taskBits == 32 ? 0x0D0D_0D0DUL : 0xD0D0_D0D0_0D0D_0D0DUL,
        "si" => taskBits == 32 ? 0x0E0E_0E0EUL : 0xE0E0_E0E0_0E0E_0E0EUL,
        "di" => taskBits == 32 ? 0x0F0F_0F0FUL : 0xF0F0_F0F0_0F0F_0F0FUL,
        "bp" => taskBits == 32 ? 0x0A0A_0A0AUL : 0xA0A0_A0A0_0A0A_0A0AUL,
        "r8" => 0x8888_8888_0808_0808UL,
        "r9" => 0x9999_9999_0909_0909UL,
        "r10" => 0x1010_1010_1010_1010UL,
        "r11" => 0x1111_1111_1111_1111UL,
        "r12" => 0x1212_1212_1212_1212UL,
        "r13" => 0x1313_1313_1313_1313UL,
        "r14" => 0x1414_1414_1414_1414UL,
        "r15" => 0x1515_1515_1515_1515UL,
        _ => 0,
    };

    /// <summary>The entry a task uses when none is named: the vDSO for 32-bit tasks, SYSCALL for 64-bit ones.</summary>
    public EntryMethod DefaultEntry => Task.Bitness == 32 ? EntryMethod.Vdso : EntryMethod.Syscall;

    /// <summary>
    /// Makes system call <paramref name="number"/> with up to six arguments through <paramref name="via"/>, runs until
    /// control is back after the call (or the task dies, the kernel oopses, the budget runs out), and reports.
    /// </summary>
    public SyscallResult InvokeSyscall(long number, IReadOnlyList<ulong>? args = null, EntryMethod? via = null,
        bool trace = false, long budget = 1_000_000, Action<Cpu.Cpu>? beforeRun = null, CancellationToken cancel = default)
    {
        var method = via ?? DefaultEntry;
        if (Task.Exited) throw new InvalidOperationException($"The task has already exited ({(Task.KilledBy is int k ? Signal.Name(k) : $"status {Task.ExitStatus}")}); make a new machine.");
        if (method == EntryMethod.Vdso && Task.Bitness == 64)
            throw new ArgumentException("64-bit tasks have no 32-bit vDSO entry (AT_SYSINFO); use Syscall or Int80.", nameof(via));
        args ??= [];
        if (args.Count > 6) throw new ArgumentException("A system call takes at most six arguments.", nameof(args));

        AbandonKernelPath();
        int bits = Task.Bitness;
        var (code, returnPoint) = CallSite(method, bits);
        // Rewriting identical bytes would still drop the decoded blocks of the page (self-modifying-code rule); a page
        // the task unmapped is mapped back by PlaceUserCode.
        if (!Memory.TryReadBytes(InvokeCode, _callSiteCheck.AsSpan(0, code.Length)) || !_callSiteCheck.AsSpan(0, code.Length).SequenceEqual(code))
            PlaceUserCode(InvokeCode, code);

        // int $0x80 speaks the i386 ABI even from 64-bit code: arguments in ebx..ebp.
        bool i386 = bits == 32 || method == EntryMethod.Int80;
        string[] argRegs = i386 ? ["bx", "cx", "dx", "si", "di", "bp"] : ["di", "si", "dx", "r10", "r8", "r9"];
        ulong ArgOr(int i) => i < args.Count ? (i386 ? (uint)args[i] : args[i]) : Sentinel(argRegs[i], bits);
        foreach (var r in new[] { "bx", "cx", "dx", "si", "di", "bp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" })
            Cpu[GprOf(r)] = Sentinel(r, bits);
        for (int i = 0; i < 6; i++) Cpu[GprOf(argRegs[i])] = ArgOr(i);
        Cpu[Gpr.Rax] = bits == 32 ? (uint)number : (ulong)number;
        Cpu[Gpr.Rsp] = InitialStackPointer - 0x100;
        Cpu.Rip = InvokeCode;
        beforeRun?.Invoke(Cpu);

        var before = RegisterSnapshot.Of(Cpu);
        var (run, observer) = RunObserved(returnPoint, budget, trace, cancel);
        var after = observer.KilledWith ?? RegisterSnapshot.Of(Cpu);
        bool completed = run.Reason == StopReason.Stopped && Cpu.Rip == returnPoint;
        var lastCall = observer.Entries.LastOrDefault(e => e.Exit is not null);
        long ret = bits == 32 ? (int)after.Ax : (long)after.Ax;
        // int $0x80 always speaks the i386 ABI, even from 64-bit code.
        var table = Syscalls.SyscallTable.For(bits == 32 || method == EntryMethod.Int80 ? Syscalls.SyscallAbi.I386 : Syscalls.SyscallAbi.X86_64);
        var row = table.ByNumber(number);
        return new SyscallResult
        {
            Name = row?.Name ?? $"syscall {number}",
            Number = number,
            Via = method,
            Kernel = Model.Name,
            Vendor = Cpu.Profile.Vendor.ToString(),
            KernelBits = KernelBits,
            Return = ret,
            Errno = completed ? Errno.FromReturn(ret) : null,
            EntryInstruction = observer.EntryTransfer?.Kind switch
            {
                FarTransferKind.Syscall => "SYSCALL",
                FarTransferKind.Sysenter => "SYSENTER",
                FarTransferKind.SoftwareInterrupt => observer.EntryTransfer.Instruction,
                null => null,
                // The entry instruction itself faulted: name what was attempted and the fault it took.
                _ when observer.UserFault is { } uf => $"{Cpu.Disassemble(uf.Rip)?.ToUpperInvariant() ?? "?"} ({uf.Mnemonic})",
                var k => k.ToString(),
            },
            // A signal handler and its sigreturn make more kernel entries: the exit reported is the last system call's.
            ExitInstruction = lastCall?.ExitInstruction,
            ExitPath = lastCall?.Exit,
            ExitIp = lastCall?.ExitIp,
            ExitSymbol = lastCall?.ExitIp is ulong xip ? Symbolize(xip) : null,
            Before = before,
            After = after,
            PtRegs = Current.PtRegsAtExit,
            Signal = observer.Entries.Select(e => e.Signal).FirstOrDefault(x => x is not null) is int s ? Signal.Name(s) : null,
            Fault = run.Fault ?? observer.UserFault,
            Oops = observer.Entries.Select(e => e.Oops).FirstOrDefault(x => x is not null) ?? Current.Oops,
            TaskExited = Task.Exited,
            UserInstructions = observer.User,
            KernelInstructions = observer.Kernel,
            CFunctions = observer.Entries.SelectMany(e => e.CFunctions).ToArray(),
            KernelEntries = observer.Entries.ToArray(),
            Trace = observer.Events,
            Outcome = completed ? "returned" : run.ToString(),
            Completed = completed,
        };
    }

    /// <summary>
    /// Writes the code the tool runs into the task's text, as a debugger pokes it there. If the task unmapped those pages
    /// (munmap of its own text is allowed), they are mapped again as user code first.
    /// </summary>
    internal void PlaceUserCode(ulong at, ReadOnlySpan<byte> code)
    {
        for (ulong p = at & ~0xFFFUL; p < at + (ulong)code.Length; p += 0x1000)
            if (!Memory.IsMapped(p)) Memory.Map(p, 0x1000, SyscallTools.Core.Memory.PageFlags.UserCode);
        Memory.WriteBytes(at, code);
    }

    /// <summary>
    /// A run that ended inside the kernel (its budget ran out, it was cancelled, the call blocked, the kernel oopsed)
    /// leaves the CPU in ring 0 on the kernel stack. The next run starts the task afresh in user mode: the kernel path is
    /// abandoned (nothing of it is resumed), the task's own selectors are loaded, GS is swapped back to the user's base on
    /// a 64-bit kernel, and EFLAGS is 0x202, as exec leaves it. A run that ended in user mode is left as it is.
    /// </summary>
    private void AbandonKernelPath()
    {
        if (Cpu.Cpl == 3) return;
        Cpu._halted = false;
        if (KernelBits == 64 && Cpu.GetSegment(SegReg.GS).Base == Layout.PerCpu) Cpu.SwapGsBase();
        bool is32 = Task.Bitness == 32;
        ushort cs = KernelBits == 64 ? (is32 ? Selectors.X64.User32Cs : Selectors.X64.UserCs) : Selectors.X86.UserCs;
        ushort ds = KernelBits == 64 ? Selectors.X64.UserDs : Selectors.X86.UserDs;
        LoadUserSegment(SegReg.CS, cs);
        LoadUserSegment(SegReg.SS, ds);
        LoadUserSegment(SegReg.DS, is32 ? ds : (ushort)0);
        LoadUserSegment(SegReg.ES, is32 ? ds : (ushort)0);
        if (KernelBits == 32) LoadUserSegment(SegReg.FS, 0);
        Cpu.Rflags = 0x202;
        Current = new KernelCallRecord();
    }

    /// <summary>Runs the task from the current RIP until <paramref name="stopAt"/>, watching every kernel entry.</summary>
    private (RunResult Run, SyscallObserver Observer) RunObserved(ulong stopAt, long budget, bool trace, CancellationToken cancel,
        int maxEntries = int.MaxValue)
    {
        Current = new KernelCallRecord();
        var observer = new SyscallObserver(this, trace) { ResetPerEntry = true, MaxEntries = maxEntries };
        Cpu.Observer = observer;
        Cpu.AddStopAddress(stopAt);
        RunResult run;
        try { run = Cpu.Run(budget, cancel); }
        finally
        {
            Cpu.RemoveStopAddress(stopAt);
            Cpu.Observer = null;
        }
        observer.Finish();
        return (run, observer);
    }

    private static Gpr GprOf(string name) => name switch
    {
        "ax" => Gpr.Rax, "bx" => Gpr.Rbx, "cx" => Gpr.Rcx, "dx" => Gpr.Rdx, "si" => Gpr.Rsi, "di" => Gpr.Rdi,
        "bp" => Gpr.Rbp, "sp" => Gpr.Rsp, "r8" => Gpr.R8, "r9" => Gpr.R9, "r10" => Gpr.R10, "r11" => Gpr.R11,
        "r12" => Gpr.R12, "r13" => Gpr.R13, "r14" => Gpr.R14, _ => Gpr.R15,
    };

    /// <summary>
    /// Call sites by entry method, bitness, __kernel_vsyscall (Import-EmuVdso moves it) and where they are placed:
    /// the bytes depend on nothing else, so machines share them (assembling one costs more than a system call).
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(EntryMethod, int, ulong, ulong), (byte[] Code, ulong ReturnPoint)> CallSites = new();
    private readonly byte[] _callSiteCheck = new byte[64];

    private (byte[] Code, ulong ReturnPoint) CallSite(EntryMethod method, int bits) =>
        CallSites.GetOrAdd((method, bits, KernelVsyscall, InvokeCode), k => BuildCallSite(k.Item1, k.Item2));

    /// <summary>The user code for one entry method, and the address control comes back to.</summary>
    private (byte[] Code, ulong ReturnPoint) BuildCallSite(EntryMethod method, int bits)
    {
        var a = new Assembler(bits);
        var back = a.CreateLabel("return_point");
        var seq = a.CreateLabel("sequence");
        switch (method)
        {
            case EntryMethod.Int80:
                a.@int(0x80);
                break;
            case EntryMethod.Vdso:
                a.call(KernelVsyscall);
                break;
            case EntryMethod.Sysenter when bits == 32:
                a.call(seq);
                break;
            case EntryMethod.Syscall when bits == 32:
                a.call(seq);
                break;
            case EntryMethod.Sysenter:
                a.sysenter();
                break;
            default:
                a.syscall();
                break;
        }
        a.Label(ref back);
        a.nop();
        a.ud2();
        a.Label(ref seq);
        if (bits == 32 && method == EntryMethod.Sysenter)
        {
            // The traditional sequence, inlined: the kernel returns to the vDSO landing pad, whose pops and ret come back here.
            a.push(ecx); a.push(edx); a.push(ebp); a.mov(ebp, esp); a.sysenter();
            a.ud2();
        }
        else if (bits == 32 && method == EntryMethod.Syscall)
        {
            // Like __kernel_vsyscall's SYSCALL variant; a pre-rewrite kernel returns to the instruction after SYSCALL.
            a.push(ecx); a.push(edx); a.push(ebp); a.mov(ebp, ecx); a.syscall();
            a.pop(ebp); a.pop(edx); a.pop(ecx); a.ret();
        }
        else
        {
            a.nop();
        }
        var writer = new Assembly.ByteListWriter();
        var result = a.Assemble(writer, InvokeCode, BlockEncoderOptions.ReturnNewInstructionOffsets);
        return (writer.Bytes.ToArray(), result.GetLabelRIP(back));
    }
}
