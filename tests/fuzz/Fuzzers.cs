using SyscallTools.Core.Cpu;
using SyscallTools.Core.Elf;
using SyscallTools.Core.Elf.Cfi;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Ptrace;
using SyscallTools.Core.Linux.Syscalls;
using SyscallTools.Core.Linux.Vdso;
using SyscallTools.Core.Memory;

namespace SyscallTools.Fuzz;

/// <summary>Random and mutated instruction streams run as the task's user code (32- and 64-bit tasks, every model).</summary>
public sealed class UserCodeFuzzer : IFuzzer
{
    public string Name => "user-code";

    public void Run(FuzzContext ctx)
    {
        var r = ctx.Rng;
        var fm = FuzzMachine.New(ctx);
        var m = fm.M;
        int bits = m.Task.Bitness;
        bool mutated = r.Next(2) == 0;
        var code = mutated ? Streams.Mutated(r, bits) : Streams.RandomBytes(r, bits);
        var regs = new ulong[16];
        for (int g = 0; g < 16; g++) regs[g] = Streams.Value(r, bits);
        bool setSp = r.Next(6) == 0;
        // Flags a user can set with POPF (IF stays set, IOPL 0): TF, NT, AC and DF matter to the entry code.
        ulong[] userFlags = [RFlags.CF, RFlags.PF, RFlags.ZF, RFlags.SF, RFlags.TF, RFlags.DF, RFlags.OF, RFlags.AC, RFlags.NT];
        ulong flags = 0;
        if (r.Next(3) == 0) foreach (var f in userFlags) if (r.Next(3) == 0) flags |= f;
        long budget = r.Next(1_000, 50_000);
        ctx.Describe($"{(mutated ? "mutated stream" : "random bytes")} ({code.Length} bytes): {Streams.Hex(code)}");
        // A third of the runs have a read-only tracer: every stop's pt_regs is checked, and the traced paths get run.
        bool traced = r.Next(3) == 0;
        if (traced) m.Tracer.OnStop = fm.CheckStop;
        ctx.Describe($"registers: {string.Join(' ', regs.Select((v, g) => g == 4 && !setSp ? "-" : $"0x{v:x}"))}; extra flags 0x{flags:x}; budget {budget}{(traced ? "; traced" : "")}");

        var res = m.RunUserCode(code, cpu =>
        {
            for (int g = 0; g < 16; g++) if (g != 4 || setSp) cpu[(Gpr)g] = regs[g];
            cpu.Rflags |= flags;
        }, budget, cancel: ctx.Hang);
        FuzzMachine.CheckBudget(res.UserInstructions, res.KernelInstructions, budget, res.Outcome);
        fm.CheckOops(ctx, res.Oops);
        fm.CheckCpu("after the run");
        if (res.Oops is null && res.Outcome == "ran to the end of the code" && res.KernelEntries.Count > 0) fm.CheckAfterSyscall("after the run");
        FuzzMachine.Count(ctx, Name, res.Fault, res.Signal, res.Outcome);
        if (res.Fault?.NotModelled is string nm) ctx.Saw($"not modelled: {nm}");
        ctx.Result.Append(FuzzMachine.Fingerprint(res));
    }
}

/// <summary>Random and mutated streams run in ring 0 on a booted kernel (its IDT, stacks and C functions in place).</summary>
public sealed class KernelCodeFuzzer : IFuzzer
{
    public string Name => "kernel-code";

    /// <summary>Checks CPL and mode after every far transfer the random kernel code makes.</summary>
    private sealed class TransitionChecker(FuzzMachine fm) : ICpuObserver
    {
        public long Retired;
        public void InstructionRetired(Cpu cpu, ulong ip, int cpl) => Retired++;
        public void FarTransfer(Cpu cpu, FarTransfer t) => fm.CheckCpu($"after {t.Instruction}");
        public void Fault(Cpu cpu, CpuFault fault) { }
        public void NativeCall(Cpu cpu, ulong address, string name) { }
    }

    public void Run(FuzzContext ctx)
    {
        var r = ctx.Rng;
        var fm = FuzzMachine.New(ctx);
        var m = fm.M;
        var cpu = m.Cpu;
        int kb = m.KernelBits;
        bool mutated = r.Next(2) == 0;
        var code = mutated ? Streams.Mutated(r, kb) : Streams.RandomBytes(r, kb);
        ulong at = m.Layout.Text + 0x20_0000;
        m.Memory.Map(at, 0x8000, PageFlags.KernelCode);
        m.Memory.WriteBytes(at, code);
        var regs = new ulong[16];
        for (int g = 0; g < 16; g++) regs[g] = Streams.Value(r, kb);
        bool observed = r.Next(2) == 0;
        long budget = r.Next(1_000, 50_000);
        ctx.Describe($"ring-0 {(mutated ? "mutated stream" : "random bytes")} at 0x{at:x} ({code.Length} bytes): {Streams.Hex(code)}");
        ctx.Describe($"registers: {string.Join(' ', regs.Select(v => $"0x{v:x}"))}; observed {observed}; budget {budget}");

        // As the kernel runs after an entry: kernel CS and SS, the task's kernel stack, the per-CPU GS base (64-bit).
        bool k64 = kb == 64;
        cpu.SetSegment(SegReg.CS, Segment.Flat(k64 ? Selectors.X64.KernelCs : Selectors.X86.KernelCs, 0, code: true, longCode: k64));
        cpu.SetSegment(SegReg.SS, Segment.Flat(k64 ? Selectors.X64.KernelDs : Selectors.X86.KernelDs, 0, code: false, longCode: false));
        if (k64) cpu.SwapGsBase();
        for (int g = 0; g < 16; g++) cpu[(Gpr)g] = regs[g];
        cpu[Gpr.Rsp] = m.Layout.StackTop - 0x400 - (ulong)(8 * r.Next(0, 64));
        cpu.Rip = at;
        fm.CheckCpu("before the run");
        m.Current = new KernelCallRecord();
        ulong end = at + (ulong)code.Length;
        cpu.AddStopAddress(end);
        var checker = observed ? new TransitionChecker(fm) : null;
        cpu.Observer = checker;
        RunResult res;
        try { res = cpu.Run(budget, ctx.Hang); }
        finally
        {
            cpu.Observer = null;
            cpu.RemoveStopAddress(end);
        }
        FuzzMachine.CheckBudget(0, res.Instructions, budget, res.ToString());
        fm.CheckCpu("after the run");
        ctx.Saw($"{Name}: {res.Reason}");
        if (m.Current.Oops is not null) ctx.Saw($"{Name}: oops (expected for faulting ring-0 code)");
        if (cpu.LastFault is { } f) ctx.Saw($"{Name}: last fault {f.Mnemonic}{(f.NotModelled is null ? "" : " (not modelled)")}");
        ctx.Result.Append($"{res} {m.Current.Oops} {RegisterSnapshot.Of(cpu)} {cpu.Cpl} {cpu.Mode} {cpu.InstructionsRetired}");
    }
}

/// <summary>Shared by the two system-call fuzzers: a random number, random arguments, a random entry.</summary>
internal static class CallPicker
{
    public static EntryMethod Via(Random r, LinuxMachine m)
    {
        EntryMethod[] vias = m.Task.Bitness == 64
            ? [EntryMethod.Syscall, EntryMethod.Int80, EntryMethod.Sysenter]
            : [EntryMethod.Vdso, EntryMethod.Int80, EntryMethod.Sysenter, EntryMethod.Syscall];
        return vias[r.Next(vias.Length)];
    }

    public static long Number(Random r, LinuxMachine m, EntryMethod via, bool benign)
    {
        bool i386 = m.Task.Bitness == 32 || via == EntryMethod.Int80;
        var table = SyscallTable.For(i386 ? SyscallAbi.I386 : SyscallAbi.X86_64);
        if (benign)
        {
            string[] names = ["getpid", "getppid", "getuid", "gettid", "uname", "kill", "rt_sigaction", "rt_sigprocmask", "nanosleep", "write", "brk"];
            var row = table.ByName(names[r.Next(names.Length)]);
            if (row is not null && r.Next(4) != 0) return row.Number;
        }
        return r.Next(20) switch
        {
            < 12 => table.Rows[r.Next(table.Rows.Count)].Number,
            < 17 => r.Next(0, 600),
            17 => -r.Next(1, 5),
            18 => (long)(0xFFFF_FFFFUL - (ulong)r.Next(0, 4)),
            _ => r.NextInt64(long.MinValue, long.MaxValue),
        };
    }

    public static ulong[] Args(Random r, LinuxMachine m)
    {
        var a = new ulong[r.Next(0, 7)];
        for (int i = 0; i < a.Length; i++) a[i] = r.Next(4) == 0 ? (ulong)m.Task.Pid : Streams.Value(r, 64);
        return a;
    }
}

/// <summary>
/// Random system-call numbers and arguments through every entry method (int $0x80, SYSENTER, SYSCALL, the vDSO), a few
/// calls per machine. Half the machines have a read-only tracer that checks pt_regs at every entry stop: where it is
/// on the kernel stack, and that the stub's pushes put the number, the arguments, CS, SS (and for int $0x80 and the
/// native SYSCALL the return address and stack pointer) in the fields the kernel's struct pt_regs names.
/// </summary>
public sealed class SyscallFuzzer : IFuzzer
{
    public string Name => "syscall";

    public void Run(FuzzContext ctx)
    {
        var r = ctx.Rng;
        var fm = FuzzMachine.New(ctx);
        var m = fm.M;
        bool checkLayout = r.Next(2) == 0;
        (long Number, ulong[] Args, EntryMethod Via, bool Seen)? expect = null;
        if (checkLayout)
        {
            m.Tracer.OnStop = stop =>
            {
                fm.CheckStop(stop);
                if (stop.Kind != PtraceStopKind.SyscallEntry || expect is not { Seen: false } e) return;
                expect = e with { Seen = true };
                CheckEntryLayout(m, stop.Regs, e.Number, e.Args, e.Via);
            };
        }
        int calls = r.Next(1, 7);
        for (int k = 0; k < calls && !m.Task.Exited; k++)
        {
            var via = CallPicker.Via(r, m);
            long nr = CallPicker.Number(r, m, via, benign: false);
            var args = CallPicker.Args(r, m);
            long budget = r.Next(10_000, 200_000);
            ctx.Describe($"call {k}: nr {nr} args [{string.Join(", ", args.Select(a => $"0x{a:x}"))}] via {via} budget {budget}{(checkLayout ? " (layout tracer)" : "")}");
            // Sometimes the caller's flags carry what the entry code must cope with: TF (single-stepping into the
            // entry), NT (IRET would #GP), AC, DF; and the registers that carry no argument hold random values.
            ulong flags = 0;
            if (r.Next(3) == 0) foreach (var f in new[] { RFlags.TF, RFlags.NT, RFlags.AC, RFlags.DF }) if (r.Next(2) == 0) flags |= f;
            var spare = Enumerable.Range(0, 4).Select(_ => Streams.Value(r, m.Task.Bitness)).ToArray();
            if (flags != 0) ctx.Describe($"        flags |= 0x{flags:x}; r12..r15 = {string.Join(", ", spare.Select(v => $"0x{v:x}"))}");
            expect = (nr, args, via, false);
            var res = m.InvokeSyscall(nr, args, via, budget: budget, cancel: ctx.Hang, beforeRun: flags == 0 ? null : (Action<Cpu>)(cpu =>
            {
                cpu.Rflags |= flags;
                if (m.Task.Bitness == 64) for (int g = 0; g < 4; g++) cpu[(Gpr)((int)Gpr.R12 + g)] = spare[g];
            }));
            FuzzMachine.CheckBudget(res.UserInstructions, res.KernelInstructions, budget, res.Outcome);
            fm.CheckOops(ctx, res.Oops);
            if (res.Completed && res.Oops is null) fm.CheckAfterSyscall($"after call {k}");
            else fm.CheckCpu($"after call {k}");
            FuzzMachine.Count(ctx, Name, res.Fault, res.Signal, res.Outcome);
            if (res.Errno is string errno) ctx.Saw($"{Name}: errno {errno}");
            ctx.Result.AppendLine(FuzzMachine.Fingerprint(res));
            if (res.Oops is not null) break;
        }
    }

    /// <summary>At the first entry stop of a call, before anyone wrote to it: what the entry stub pushed, field by field.</summary>
    private static void CheckEntryLayout(LinuxMachine m, PtRegs regs, long number, ulong[] args, EntryMethod via)
    {
        bool i386 = m.Task.Bitness == 32 || via == EntryMethod.Int80;
        string[] argRegs = i386 ? ["bx", "cx", "dx", "si", "di", "bp"] : ["di", "si", "dx", "r10", "r8", "r9"];
        ulong Arg(int i) => i < args.Length ? args[i] : LinuxMachine.Sentinel(argRegs[i], m.Task.Bitness);
        void Field(string name, ulong actual, ulong expected) => FuzzContext.Require(actual == expected,
            $"pt_regs layout at the entry stop ({via}, nr {number}): {name} is 0x{actual:x}, expected 0x{expected:x}");
        if (i386)
        {
            Field("orig_ax", (uint)regs.OrigAx, (uint)number);
            string[] names = ["bx", "cx", "dx", "si", "di"];
            for (int i = 0; i < 5; i++) Field(names[i], (uint)regs[names[i]], (uint)Arg(i));
        }
        else
        {
            Field("orig_ax", regs.OrigAx, (ulong)number);
            string[] names = ["di", "si", "dx", "r10", "r8", "r9"];
            for (int i = 0; i < 6; i++) Field(names[i], regs[names[i]], Arg(i));
            // SYSCALL saved RIP in RCX and RFLAGS in R11; the stub stores each twice.
            if (via == EntryMethod.Syscall) { Field("cx (= ip)", regs.Cx, regs.Ip); Field("r11 (= flags)", regs.R11, regs.Flags); }
        }
        ulong userCs = m.KernelBits == 32 ? Selectors.X86.UserCs : m.Task.Bitness == 64 ? Selectors.X64.UserCs : Selectors.X64.User32Cs;
        ulong userSs = m.KernelBits == 32 ? Selectors.X86.UserDs : Selectors.X64.UserDs;
        Field("cs", regs.Cs, userCs);
        Field("ss", regs.Ss, userSs);
        if (via == EntryMethod.Int80 || via == EntryMethod.Syscall && m.Task.Bitness == 64)
        {
            Field("ip", regs.Ip, m.UserCodeAddress + 2);
            Field("sp", regs.Sp, m.InitialStackPointer - 0x100);
        }
    }
}

/// <summary>
/// A tracer that writes random values into random pt_regs fields at random stops (syscall entry, syscall exit, signal
/// delivery), with PTRACE_SINGLESTEP and PTRACE_SYSEMU switched on at random, on every model, vendor and bitness; the
/// task makes a few calls or runs a mutated stream that makes them.
/// </summary>
public sealed class PtRegsEditFuzzer : IFuzzer
{
    public string Name => "ptregs-edit";

    private static ulong EditValue(Random r, string reg, PtraceStop stop)
    {
        int bits = stop.TaskBits;
        return reg switch
        {
            "cs" or "ss" => r.Next(5) switch
            {
                0 => (ulong)r.Next(0, 0x100),
                1 => Selectors.X64.User32Cs, 2 => Selectors.X64.UserCs, 3 => Selectors.X64.UserDs,
                _ => r.Next(2) == 0 ? Selectors.X86.UserCs : Selectors.X86.UserDs,
            },
            "flags" => (ulong)r.Next() & 0x0025_7FD5 | (r.Next(3) == 0 ? RFlags.TF : 0),
            "ax" when r.Next(2) == 0 => unchecked((ulong)(long)-(512 + r.Next(0, 5))),   // -ERESTARTSYS … -ERESTART_RESTARTBLOCK
            "orig_ax" when r.Next(2) == 0 => r.Next(3) == 0 ? ulong.MaxValue : (ulong)r.Next(0, 470),
            "ip" when r.Next(3) == 0 => stop.Peek("ip") + (ulong)r.Next(-4, 4),
            _ => Streams.Value(r, bits),
        };
    }

    public void Run(FuzzContext ctx)
    {
        var r = ctx.Rng;
        var fm = FuzzMachine.New(ctx);
        var m = fm.M;
        var edits = new List<string>();
        int stops = 0;
        double editChance = r.NextDouble();
        m.Tracer.OnStop = stop =>
        {
            fm.CheckStop(stop);
            stops++;
            if (stop.Kind == PtraceStopKind.SignalDelivery && r.Next(3) == 0) stop.Signal = r.Next(3) == 0 ? 0 : r.Next(1, 65);
            if (r.NextDouble() >= editChance) return;
            // As sysret_rip does: ip and cx together (SYSRETQ takes RIP from RCX, and only when they agree), at times
            // non-canonical — the one case where the unsafe model's missing check lets Intel's SYSRET #GP in ring 0.
            if (stop.TaskBits == 64 && r.Next(4) == 0)
            {
                ulong v = r.Next(3) == 0 ? 0x0000_8000_0000_0000UL + (ulong)r.Next(0, 0x10000) : Streams.Value(r, 64);
                stop.Poke("ip", v);
                stop.Poke("cx", v);
                edits.Add($"stop {stops} ({stop.Kind}): ip = cx = 0x{v:x}");
                ctx.Saw($"{Name}: ip and cx written together");
            }
            int n = r.Next(1, 5);
            for (int k = 0; k < n; k++)
            {
                string reg = stop.RegisterNames[r.Next(stop.RegisterNames.Count)];
                ulong v = EditValue(r, reg, stop);
                try
                {
                    stop.Poke(reg, v);
                    edits.Add($"stop {stops} ({stop.Kind}): {reg} = 0x{v:x}");
                    ctx.Saw($"{Name}: accepted {reg} write");
                }
                catch (PtraceWriteException)
                {
                    edits.Add($"stop {stops} ({stop.Kind}): {reg} = 0x{v:x} rejected");
                    ctx.Saw($"{Name}: rejected {reg} write (-EIO)");
                }
            }
            if (r.Next(8) == 0) m.Tracer.SingleStep = !m.Tracer.SingleStep;
            if (r.Next(10) == 0) m.Tracer.Sysemu = !m.Tracer.Sysemu;
        };
        m.Tracer.SingleStep = r.Next(6) == 0;
        m.Tracer.Sysemu = r.Next(8) == 0;
        ctx.Describe($"edit chance {editChance:F2}; single-step {m.Tracer.SingleStep}; sysemu {m.Tracer.Sysemu}");
        try
        {
            if (r.Next(4) == 0)
            {
                var code = Streams.Mutated(r, m.Task.Bitness);
                long budget = r.Next(5_000, 100_000);
                ctx.Describe($"code ({code.Length} bytes): {Streams.Hex(code)}; budget {budget}");
                var res = m.RunUserCode(code, null, budget, cancel: ctx.Hang);
                FuzzMachine.CheckBudget(res.UserInstructions, res.KernelInstructions, budget, res.Outcome);
                fm.CheckOops(ctx, res.Oops);
                fm.CheckCpu("after the run");
                FuzzMachine.Count(ctx, Name, res.Fault, res.Signal, res.Outcome);
                ctx.Result.AppendLine(FuzzMachine.Fingerprint(res));
                return;
            }
            int calls = r.Next(1, 5);
            for (int k = 0; k < calls && !m.Task.Exited; k++)
            {
                var via = CallPicker.Via(r, m);
                long nr = CallPicker.Number(r, m, via, benign: true);
                var args = CallPicker.Args(r, m);
                long budget = r.Next(10_000, 200_000);
                ctx.Describe($"call {k}: nr {nr} args [{string.Join(", ", args.Select(a => $"0x{a:x}"))}] via {via} budget {budget}");
                var res = m.InvokeSyscall(nr, args, via, budget: budget, cancel: ctx.Hang);
                FuzzMachine.CheckBudget(res.UserInstructions, res.KernelInstructions, budget, res.Outcome);
                fm.CheckOops(ctx, res.Oops);
                if (res.Completed && res.Oops is null) fm.CheckAfterSyscall($"after call {k}");
                else fm.CheckCpu($"after call {k}");
                FuzzMachine.Count(ctx, Name, res.Fault, res.Signal, res.Outcome);
                ctx.Result.AppendLine(FuzzMachine.Fingerprint(res));
                if (res.Oops is not null) break;
            }
        }
        finally
        {
            foreach (var e in edits) ctx.Describe(e);
            ctx.Result.AppendLine(string.Join("; ", edits));
        }
    }
}

/// <summary>
/// Corrupted and truncated ELF images (the built vDSOs of every model and the test images) through the ELF reader, the
/// .eh_frame parser and unwinder, and the vDSO importer; an image the importer accepts is mapped and called through.
/// </summary>
public sealed class ElfFuzzer : IFuzzer
{
    public string Name => "elf-vdso";

    private static readonly Lazy<IReadOnlyList<(string Name, byte[] Bytes)>> Bases = new(LoadBases);

    private static IReadOnlyList<(string, byte[])> LoadBases()
    {
        var list = new List<(string, byte[])>();
        foreach (var model in Core.Linux.Models.KernelModel.All)
            foreach (var profile in CpuProfile.All)
                foreach (int kb in new[] { 64, 32 })
                {
                    var m = new LinuxMachine(model, profile, kb, 32);
                    if (m.Vdso is { } v) list.Add(($"built vDSO {model.Name} {profile.Vendor} {kb}", (v.File ?? v.Bytes).ToArray()));
                }
        // The checked-in images, when the runner starts inside the repository.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var images = Path.Combine(dir.FullName, "tests", "SyscallTools.Core.Tests", "Elf", "Images");
            if (!Directory.Exists(images)) continue;
            foreach (var f in Directory.GetFiles(images).Where(f => f.EndsWith(".so", StringComparison.Ordinal) || Path.GetFileName(f) == "static32").Order(StringComparer.Ordinal))
                list.Add((Path.GetFileName(f), File.ReadAllBytes(f)));
            break;
        }
        return list;
    }

    private static uint Interesting32(Random r, int length) => r.Next(10) switch
    {
        0 => 0, 1 => 1, 2 => 0x7FFF_FFFF, 3 => 0x8000_0000, 4 => 0xFFFF_FFFF, 5 => 0xFFFF, 6 => 0x1_0000,
        7 => (uint)length, 8 => (uint)length + 1,
        _ => (uint)r.Next(0, 0x200),
    };

    public static byte[] Mutate(Random r, byte[] original, List<string> log)
    {
        var b = new List<byte>(original);
        int edits = r.Next(1, 6);
        for (int e = 0; e < edits && b.Count > 0; e++)
        {
            // Header fields first: the ELF header, then offsets that land in the program and section header tables.
            int Offset() => r.Next(3) switch
            {
                0 => r.Next(0, Math.Min(0x40, b.Count)),
                1 => b.Count > 0x34 ? (int)Math.Min((long)BitConverter.ToUInt32(b.GetRange(0x1C, 4).ToArray()) + r.Next(0, 0x80), b.Count - 1) : 0,
                _ => r.Next(b.Count),
            };
            switch (r.Next(7))
            {
                case 0: { int at = r.Next(b.Count); int bit = r.Next(8); b[at] ^= (byte)(1 << bit); log.Add($"flip bit {bit} of byte 0x{at:x}"); break; }
                case 1:
                case 6:
                {
                    int at = Offset();
                    uint v = Interesting32(r, b.Count);
                    int width = r.Next(3) switch { 0 => 1, 1 => 2, _ => 4 };
                    for (int k = 0; k < width && at + k < b.Count; k++) b[at + k] = (byte)(v >> (8 * k));
                    log.Add($"write {width}-byte 0x{v:x} at 0x{at:x}");
                    break;
                }
                case 2: { int len = r.Next(b.Count); b.RemoveRange(len, b.Count - len); log.Add($"truncate to 0x{len:x} bytes"); break; }
                case 3: { int at = r.Next(b.Count); int n = Math.Min(r.Next(1, 64), b.Count - at); for (int k = 0; k < n; k++) b[at + k] = 0; log.Add($"zero 0x{n:x} bytes at 0x{at:x}"); break; }
                case 4: { var g = new byte[r.Next(1, 256)]; r.NextBytes(g); b.AddRange(g); log.Add($"append {g.Length} random bytes: {Streams.Hex(g)}"); break; }
                default:
                {
                    int from = r.Next(b.Count), to = r.Next(b.Count), n = Math.Min(Math.Min(r.Next(1, 64), b.Count - from), b.Count - to);
                    var chunk = b.GetRange(from, n);
                    for (int k = 0; k < n; k++) b[to + k] = chunk[k];
                    log.Add($"copy 0x{n:x} bytes from 0x{from:x} to 0x{to:x}");
                    break;
                }
            }
        }
        return b.ToArray();
    }

    public void Run(FuzzContext ctx)
    {
        var r = ctx.Rng;
        var bases = Bases.Value;
        var (baseName, original) = bases[r.Next(bases.Count)];
        var log = new List<string>();
        var bytes = Mutate(r, original, log);
        ctx.Describe($"base image: {baseName} ({original.Length} bytes); edits: {string.Join("; ", log)}");
        var result = ctx.Result;

        // 1. The ELF reader: parse, then touch every table and lookup so nothing bad hides in a lazy path.
        ElfReader? elf = null;
        try
        {
            elf = new ElfReader(bytes);
            foreach (var s in elf.Sections) _ = s.Bytes.Length;
            foreach (var s in elf.LoadSegments) _ = s.Bytes.Span.Length;
            _ = elf.Symbols.Count + elf.DynamicSymbols.Count + elf.DynamicEntries.Count;
            foreach (var n in new[] { "__kernel_vsyscall", "__kernel_sigreturn", "__kernel_rt_sigreturn", "int80_landing_pad", "_start" })
            {
                _ = elf.FindSymbol(n);
                _ = elf.LookupDynamicSymbol(n);
            }
            _ = elf.GetSection(".eh_frame");
            ctx.Saw($"{Name}: ELF parsed");
            result.AppendLine($"elf ok {elf.Sections.Count} {elf.Symbols.Count}");
        }
        catch (ElfFormatException e)
        {
            ctx.Saw($"{Name}: ElfFormatException");
            result.AppendLine("elf: " + e.Message);
        }

        // 2. The CFI parser and unwinder, on the damaged image or on a damaged .eh_frame alone.
        try
        {
            EhFrame frame;
            if (elf is not null && r.Next(3) != 0) frame = EhFrame.FromElf(elf, 0);
            else
            {
                var good = new ElfReader(original).GetSection(".eh_frame");
                if (good is null) { result.AppendLine("no .eh_frame"); goto import; }
                var cfiLog = new List<string>();
                var cfi = Mutate(r, good.Bytes.ToArray(), cfiLog);
                ctx.Describe($".eh_frame alone at 0x{good.Address:x}: edits {string.Join("; ", cfiLog)}");
                frame = EhFrame.Parse(cfi, good.Address);
            }
            foreach (var fde in frame.Fdes) _ = fde.Rows.Count;
            var regs = Enumerable.Range(0, 9).Select(_ => (uint)Streams.Value(r, 32)).ToArray();
            for (int k = 0; k < 4 && frame.Fdes.Count > 0; k++)
            {
                var fde = frame.Fdes[r.Next(frame.Fdes.Count)];
                ulong pc = fde.PcBegin + (ulong)r.Next(0, (int)Math.Min(0x100, Math.Max(1, fde.PcEnd - fde.PcBegin)));
                _ = frame.RowAt(pc);
                try
                {
                    var u = CfiUnwinder.Unwind(frame, pc, regs, a => (a & 3) == 0 && r.Next(4) != 0 ? a ^ 0x5A5A : null);
                    result.AppendLine($"unwound 0x{pc:x} to 0x{u.ReturnAddress:x}");
                }
                catch (CfiUnwindException e) { ctx.Saw($"{Name}: CfiUnwindException"); result.AppendLine(e.Message); }
            }
            ctx.Saw($"{Name}: CFI parsed");
        }
        catch (ElfFormatException e)
        {
            ctx.Saw($"{Name}: CFI ElfFormatException");
            result.AppendLine("cfi: " + e.Message);
        }

    import:
        // 3. The importer; an accepted image is mapped and called through, and its CFI checked at every step.
        VdsoImage image;
        int kb = r.Next(2) == 0 ? 64 : 32;
        try { image = VdsoImport.Load(bytes, kb, "fuzz.so"); }
        catch (InvalidVdsoImageException e)
        {
            ctx.Saw($"{Name}: import refused");
            result.AppendLine("import: " + e.Message);
            return;
        }
        ctx.Saw($"{Name}: import accepted");
        var fm = FuzzMachine.New(ctx, task64: false, vdso: true, modernOnly: true);
        var m = fm.M;
        if (m.KernelBits != kb)
        {
            result.AppendLine("bitness differs; reload");
            try { image = VdsoImport.Load(bytes, m.KernelBits, "fuzz.so"); }
            catch (InvalidVdsoImageException e)
            {
                ctx.Saw($"{Name}: import refused for a {m.KernelBits}-bit kernel");
                result.AppendLine("import: " + e.Message);
                return;
            }
        }
        m.ReplaceVdso(image);
        var res = m.InvokeSyscall(20, via: EntryMethod.Vdso, budget: 100_000, cancel: ctx.Hang);
        FuzzMachine.CheckBudget(res.UserInstructions, res.KernelInstructions, 100_000, res.Outcome);
        fm.CheckOops(ctx, res.Oops);
        if (res.Completed && res.Oops is null) fm.CheckAfterSyscall("after getpid through the imported vDSO");
        else fm.CheckCpu("after getpid through the imported vDSO");
        FuzzMachine.Count(ctx, Name, res.Fault, res.Signal, res.Outcome);
        result.AppendLine(FuzzMachine.Fingerprint(res));
        if (m.Task.Exited) return;
        try
        {
            var report = m.CheckVdsoUnwind(20, null, 100_000);
            result.AppendLine($"unwind check: {report.Outcome} {report.Steps.Count} steps");
        }
        catch (ElfFormatException e) { ctx.Saw($"{Name}: unwind check ElfFormatException"); result.AppendLine(e.Message); }
    }
}
