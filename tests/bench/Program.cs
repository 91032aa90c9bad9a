using System.Diagnostics;
using Iced.Intel;
using SyscallTools.Bench.Peers;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Host;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Core.Memory;
using static Iced.Intel.AssemblerRegisters;

// The benchmark harness: fixed workloads, printed figures and ratios. It asserts nothing; the figures go
// into the issue notes (DEVELOPERS.md: speed is measured, not asserted).
namespace SyscallTools.Bench;

public static class Program
{
    public static int Main(string[] args)
    {
        // "once <calls>": one AMD linux-6.18 vDSO round-trip run and nothing else — for instruction-counting
        // profilers (valgrind --tool=callgrind), whose counts, unlike times, do not depend on the machine's load.
        if (args.Length > 1 && args[0] == "once" && long.TryParse(args[1], out var onceCalls))
        {
            var once = RoundTrip(new Linux618(), CpuProfile.AmdZen3, "vdso", onceCalls);
            Console.WriteLine($"{onceCalls} calls, {once.InstructionsPerCall:F1} emulated instructions per call, {once.BytesPerCall:F0} bytes allocated per call");
            return 0;
        }
        if (args.Length > 1 && args[0] == "rt")
        {
            // "rt <via> [calls]": one round-trip workload (vdso, vdso-intel, int80, syscall64) after the usual warm-up,
            // median of 5 — a quick before/after figure while working on the hot path.
            long rtCalls = args.Length > 2 && long.TryParse(args[2], out var c) ? c : 400_000;
            var profile = args[1] == "vdso-intel" ? CpuProfile.IntelSkylake : CpuProfile.AmdZen3;
            string via = args[1] == "vdso-intel" ? "vdso" : args[1];
            var warm = Stopwatch.StartNew();
            while (warm.ElapsedMilliseconds < 1000) RoundTrip(new Linux618(), profile, via, 20_000);
            var runs = Enumerable.Range(0, 5).Select(_ => RoundTrip(new Linux618(), profile, via, rtCalls)).OrderBy(r => r.Seconds).ToArray();
            Console.WriteLine($"{args[1]}: {runs[2].Seconds / rtCalls * 1e9:F0} ns per call (best {runs[0].Seconds / rtCalls * 1e9:F0}; all {string.Join(" ", runs.Select(r => (r.Seconds / rtCalls * 1e9).ToString("F0")))}), {runs[2].BytesPerCall:F0} B/call");
            return 0;
        }
        if (args.Length > 1 && args[0] == "invoke" && long.TryParse(args[1], out var invokeCalls))
        {
            // LinuxMachine.InvokeSyscall, the call behind Invoke-Syscall: its overhead around the modelled round trip.
            var m = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3);
            m.InvokeSyscall(20);
            var clock = Stopwatch.StartNew();
            for (long i = 0; i < invokeCalls; i++) m.InvokeSyscall(20);
            Console.WriteLine($"InvokeSyscall: {clock.Elapsed.TotalMilliseconds * 1000 / invokeCalls:F1} µs per call");
            Report.Json("invoke", "ns_per_call", clock.Elapsed.TotalMilliseconds * 1e6 / invokeCalls);
            return 0;
        }
        if (args.Length > 1 && args[0] == "boot" && long.TryParse(args[1], out var boots))
        {
            // New-EmuCpu's cost: booting a LinuxMachine (stubs, vDSO, tables, the task).
            for (int i = 0; i < 20; i++) _ = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3);
            var clock = Stopwatch.StartNew();
            for (long i = 0; i < boots; i++) _ = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3);
            Console.WriteLine($"boot: {clock.Elapsed.TotalMilliseconds * 1000 / boots:F0} µs per machine");
            return 0;
        }
        if (args.Length > 1 && args[0] == "first" && long.TryParse(args[1], out var firsts))
        {
            // A sweep's unit: a new machine and its first system call (boot, decoding the entry path, the call site).
            // Half a second of warm-up: measured before the runtime optimises them, boot and call read ~2x dearer.
            var warmup = Stopwatch.StartNew();
            while (warmup.ElapsedMilliseconds < 500) new LinuxMachine(new Linux618(), CpuProfile.AmdZen3).InvokeSyscall(20, via: EntryMethod.Int80);
            var clock = Stopwatch.StartNew();
            for (long i = 0; i < firsts; i++) new LinuxMachine(new Linux618(), CpuProfile.AmdZen3).InvokeSyscall(20, via: EntryMethod.Int80);
            double total = clock.Elapsed.TotalMilliseconds * 1000 / firsts;
            clock.Restart();
            for (long i = 0; i < firsts; i++) _ = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3);
            double boot = clock.Elapsed.TotalMilliseconds * 1000 / firsts;
            var firstOnly = new Stopwatch();
            for (long i = 0; i < firsts; i++)
            {
                var m = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3);
                firstOnly.Start();
                m.InvokeSyscall(20, via: EntryMethod.Int80);
                firstOnly.Stop();
            }
            Console.WriteLine($"the first call alone: {firstOnly.Elapsed.TotalMilliseconds * 1000 / firsts:F0} µs");
            var second = new List<LinuxMachine>();
            for (long i = 0; i < firsts; i++) { var m = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3); m.InvokeSyscall(20, via: EntryMethod.Int80); second.Add(m); }
            clock.Restart();
            foreach (var m in second) m.InvokeSyscall(20, via: EntryMethod.Int80);
            double again = clock.Elapsed.TotalMilliseconds * 1000 / firsts;
            Console.WriteLine($"new machine + first call: {total:F0} µs ({boot:F0} µs of it the boot); a second call on each: {again:F0} µs");
            return 0;
        }
        if (args.Length > 1 && args[0] == "allocations")
        {
            using var sampler = new AllocationSampler();
            var r = RoundTrip(new Linux618(), CpuProfile.AmdZen3, args[1], 2_000_000);
            Console.WriteLine($"{r.BytesPerCall:F0} bytes per call; sampled types: " +
                string.Join(", ", sampler.Types.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} ×{kv.Value}")));
            return 0;
        }
        // "w7 [rounds]": only the checksum program (W7). Looked for anywhere in the arguments: some `dotnet run` versions
        // pass their own options (--nologo) through to the program.
        int w7 = Array.IndexOf(args, "w7");
        if (w7 >= 0)
        {
            Workloads.ChecksumProgram.Run(args.Length > w7 + 1 && int.TryParse(args[w7 + 1], out var r7) ? r7 : ChecksumRounds);
            return 0;
        }
        long iterations = args.Length > 0 && long.TryParse(args[0], out var n) ? n : 50_000_000;
        // "roundtrip" as the second argument runs only the system-call round trips (for profiling).
        bool onlyRoundTrips = args.Length > 1 && args[1] == "roundtrip";
        bool noPeers = args.Contains("nopeers");
        Console.WriteLine($"SyscallTools benchmark — {Environment.ProcessorCount} cores, .NET {Environment.Version}, {iterations:N0} loop iterations");
        Console.WriteLine();
        var ours = new Dictionary<string, double>();
        if (!onlyRoundTrips) AluWorkloads(iterations, ours);
        RoundTripWorkloads(iterations, ours);
        if (!noPeers) Peers(iterations, ours);
        Workloads.ChecksumProgram.Run(ChecksumRounds);
        return 0;
    }

    /// <summary>W7's rounds: about 0.1 s of emulated work, long enough that start-up is not the whole figure.</summary>
    private const int ChecksumRounds = 200;

    /// <summary>W1: the ALU loop, 32- and 64-bit, emulated instructions per second.</summary>
    private static void AluWorkloads(long iterations, Dictionary<string, double> ours)
    {
        Console.WriteLine("| workload | instructions | median s (of 5) | M instr/s (median) | M instr/s (best) |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        var workloads = new (string Name, int Bits, bool Observed)[]
        {
            ("W1 ALU loop, 32-bit (compat mode)", 32, false),
            ("W1 ALU loop, 64-bit", 64, false),
            ("W1 ALU loop, 64-bit, with an observer attached", 64, true),
        };
        // Warm up every workload first so the JIT's tiered compilation has settled for all of them.
        for (int w = 0; w < 3; w++) foreach (var (_, bits, observed) in workloads) AluLoop(bits, iterations / 10, observed);
        foreach (var (name, bits, observed) in workloads)
        {
            var runs = Enumerable.Range(0, 5).Select(_ => AluLoop(bits, observed ? iterations / 4 : iterations, observed)).OrderBy(r => r.Seconds).ToArray();
            var median = runs[2];
            double rate = median.Instructions / median.Seconds;
            Console.WriteLine($"| {name} | {median.Instructions:N0} | {median.Seconds:F3} | {rate / 1e6:F1} | {runs[0].Instructions / runs[0].Seconds / 1e6:F1} |");
            if (!observed) ours[$"W1-{bits}"] = rate;
            Report.Json(observed ? $"W1-{bits}-observed" : $"W1-{bits}", "instructions_per_second", rate);
        }
        Console.WriteLine();
    }

    /// <summary>W2 (int $0x80), W3 (the vDSO, AMD and Intel), W4 (64-bit SYSCALL): ns per modelled getpid round trip.</summary>
    private static void RoundTripWorkloads(long iterations, Dictionary<string, double> ours)
    {
        // Best beside median: on a shared machine the neighbours' load only ever adds time, so the best run is the
        // steadier figure from one run of the harness to the next; the median is the one the ratios use.
        Console.WriteLine("| modelled round trip | instructions per call (user + kernel) | ns per call, wall (median of 5) | ns per call, wall (best of 5) | ns per call, CPU time (median of 5) | calls/s | bytes allocated per call |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var (id, name, model, vendor, via) in new (string, string, KernelModel, CpuProfile, string)[]
        {
            ("W3-amd", "W3 getpid via the vDSO, AMD, linux-6.18", new Linux618(), CpuProfile.AmdZen3, "vdso"),
            ("W3-intel", "W3 getpid via the vDSO, Intel, linux-6.18", new Linux618(), CpuProfile.IntelSkylake, "vdso"),
            ("W2", "W2 getpid via int $0x80, AMD, linux-6.18", new Linux618(), CpuProfile.AmdZen3, "int80"),
            ("W4", "W4 getpid via 64-bit SYSCALL, AMD, linux-6.18", new Linux618(), CpuProfile.AmdZen3, "syscall64"),
            ("W3-amd-4.2", "getpid via the vDSO, AMD, linux-4.2", new Linux42(), CpuProfile.AmdZen3, "vdso"),
        })
        {
            // At least 100 000 calls a run, after 1.5 s of warm-up: the runtime promotes hot methods to optimised code only
            // after a quiet period, so a short run measures unoptimised code (a 50 000-call run read ~4× slower). With half
            // a second the runtime's compiler thread was still busy during the first workload's runs (CPU time twice the
            // wall time, the median up to 4× the best); at 1.5 s median, best and CPU time agree.
            long calls = Math.Max(100_000, iterations / 500);
            var warm = Stopwatch.StartNew();
            while (warm.ElapsedMilliseconds < 1500) RoundTrip(model, vendor, via, 20_000);
            var runs = Enumerable.Range(0, 5).Select(_ => RoundTrip(model, vendor, via, calls)).ToArray();
            var med = runs.OrderBy(r => r.Seconds).ElementAt(2);
            var cpu = runs.OrderBy(r => r.CpuSeconds).ElementAt(2);
            double ns = med.Seconds / calls * 1e9;
            double best = runs.Min(r => r.Seconds) / calls * 1e9;
            Console.WriteLine($"| {name} | {med.InstructionsPerCall:F1} | {ns:F0} | {best:F0} | {cpu.CpuSeconds / calls * 1e9:F0} | {calls / med.Seconds:N0} | {med.BytesPerCall:F0} |");
            ours[id] = ns;
            Report.Json(id, "ns_per_call", ns);
        }
        Console.WriteLine();
    }

    /// <summary>
    /// The peers, each measured in this run and skipped with the reason when absent: the host itself (the same loops as
    /// static ELF programs), QEMU user mode (qemu-i386, qemu-x86_64) and Unicorn 2 (libunicorn.so.2, its syscall hook
    /// answering getpid in C#).
    /// </summary>
    private static void Peers(long iterations, Dictionary<string, double> ours)
    {
        Console.WriteLine("| workload | peer | peer figure | ours | ratio (above 1: we are ahead) |");
        Console.WriteLine("|---|---|---:|---:|---:|");
        void Row(string workload, string metric, string peer, double? peerValue, string? why)
        {
            bool rate = metric.EndsWith("_per_second", StringComparison.Ordinal);
            if (!ours.TryGetValue(workload, out double mine)) return;
            if (peerValue is not double pv)
            {
                Console.WriteLine($"| {workload} | {peer} | skipped: {why} | | |");
                return;
            }
            double ratio = rate ? mine / pv : pv / mine;
            string Show(double v) => rate ? $"{v / 1e6:F1} M instr/s" : $"{v:F0} ns";
            Console.WriteLine($"| {workload} | {peer} | {Show(pv)} | {Show(mine)} | {ratio:F3} |");
            Report.Json(workload, metric, mine, peer, pv);
        }

        long aluIterations = Math.Max(10_000_000, iterations);
        long calls = Math.Max(20_000, iterations / 250);
        foreach (int bits in new[] { 32, 64 })
        {
            string w = $"W1-{bits}";
            // host: the ELF loop natively (wall time of N iterations less an empty run)
            string? why = HostCapabilities.CannotRun(bits);
            double? host = why is null ? HostSeconds(BenchProbes.AluLoop(bits, aluIterations), BenchProbes.AluLoop(bits, 0), out why) : null;
            Row(w, "instructions_per_second", "host", host is double h ? 4.0 * aluIterations / h : null, why);
            double? qemu = QemuUser.Seconds(i => BenchProbes.AluLoop(bits, i), bits, aluIterations, out string? qwhy);
            Row(w, "instructions_per_second", "qemu-user", qemu is double q ? 4.0 * aluIterations / q : null, qwhy);
            double? uc = Unicorn.Missing is null ? Best3(() => Unicorn.AluLoop(bits, aluIterations)) : null;
            Row(w, "instructions_per_second", "unicorn", uc is double u ? 4.0 * aluIterations / u : null, Unicorn.Missing);
        }
        foreach (var (w, method, bits) in new[] { ("W2", "int80", 32), ("W3-amd", "vdso", 32), ("W3-intel", "vdso", 32), ("W4", "syscall", 64) })
        {
            var c = HostSyscallTiming.Measure(method, bits, calls);
            Row(w, "ns_per_call", "host", c.NsPerCall, c.SkipReason);
            double? qemu = QemuUser.Seconds(i => BenchProbes.GetpidLoop(method, bits, i), bits, calls, out string? qwhy);
            // QEMU's i386 user mode gives the program no vDSO (no AT_SYSINFO): the call through it faults.
            if (qemu is null && method == "vdso" && qwhy is not null && QemuUser.Missing(bits) is null)
                qwhy = "QEMU user mode maps no vDSO for i386 programs (no AT_SYSINFO), so there is no fast entry to call: " + qwhy;
            Row(w, "ns_per_call", "qemu-user", qemu is double q ? q / calls * 1e9 : null, qwhy);
            if (method == "vdso") continue;   // Unicorn has no kernel and no vDSO: only the raw entries have a hook
            double? uc = Unicorn.Missing is null ? Best3(() => Unicorn.GetpidLoop(bits, calls)) : null;
            Row(w, "ns_per_call", "unicorn", uc is double u ? u / calls * 1e9 : null, Unicorn.Missing);
        }
        Console.WriteLine();
    }

    private static double Best3(Func<double> run) => Enumerable.Range(0, 3).Select(_ => run()).Min();

    private static double? HostSeconds(ProbeProgram full, ProbeProgram empty, out string? why)
    {
        why = null;
        double Best(ProbeProgram p)
        {
            double best = double.MaxValue;
            for (int i = 0; i < 3; i++)
            {
                var clock = Stopwatch.StartNew();
                var run = HostProbeRunner.Run(p, null, TimeSpan.FromSeconds(60));
                double s = clock.Elapsed.TotalSeconds;
                if (run.ExitStatus != 0) throw new InvalidOperationException($"{p.Name} ended with {run.Ending}");
                best = Math.Min(best, s);
            }
            return best;
        }
        try { return Math.Max(1e-9, Best(full) - Best(empty)); }
        catch (InvalidOperationException e) { why = e.Message; return null; }
    }

    /// <summary>
    /// A 32-bit task calling getpid in a loop (esi counts down; the vDSO preserves it), with no observer attached:
    /// the cost of the modelled round trip through entry stubs, C functions and the exit instruction.
    /// </summary>
    /// <remarks>CPU time is reported beside wall time: on a shared machine it is the steadier of the two.</remarks>
    public static (double Seconds, double CpuSeconds, double InstructionsPerCall, double BytesPerCall) RoundTrip(KernelModel model, CpuProfile profile, string via, long calls)
    {
        // "syscall64": a 64-bit task's SYSCALL (r12 counts down; SYSCALL clobbers only rcx and r11).
        bool native64 = via == "syscall64";
        var m = new LinuxMachine(model, profile, 64, native64 ? 64 : 32);
        var a = new Assembler(native64 ? 64 : 32);
        var top = a.CreateLabel();
        var done = a.CreateLabel();
        if (native64) a.mov(r12, calls); else a.mov(esi, (uint)calls);
        a.Label(ref top);
        a.mov(eax, native64 ? 39 : 20);
        if (native64) a.syscall(); else if (via == "vdso") a.call((uint)m.KernelVsyscall); else a.@int(0x80);
        if (native64) a.dec(r12); else a.dec(esi);
        a.jnz(top);
        a.Label(ref done);
        a.nop();
        var w = new SyscallTools.Core.Assembly.ByteListWriter();
        ulong at = m.UserText + 0x8000;
        var result = a.Assemble(w, at, BlockEncoderOptions.ReturnNewInstructionOffsets);
        m.Memory.WriteBytes(at, w.Bytes.ToArray());
        ulong end = result.GetLabelRIP(done);
        m.Cpu.AddStopAddress(end);
        m.Cpu.Rip = at;
        m.Cpu[Gpr.Rsp] = m.InitialStackPointer;
        ulong before = m.Cpu.InstructionsRetired;
        var proc = Process.GetCurrentProcess();
        var cpu0 = proc.TotalProcessorTime;
        long alloc0 = GC.GetAllocatedBytesForCurrentThread();
        var sw = Stopwatch.StartNew();
        var r = m.Cpu.Run(calls * 1000);
        sw.Stop();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - alloc0;
        proc.Refresh();
        var cpuTime = proc.TotalProcessorTime - cpu0;
        if (r.Reason != StopReason.Stopped || m.Cpu.Rip != end || (uint)m.Cpu[Gpr.Rax] != 4242)
            throw new InvalidOperationException($"round-trip loop did not complete: {r}");
        return (sw.Elapsed.TotalSeconds, cpuTime.TotalSeconds, (double)(m.Cpu.InstructionsRetired - before) / calls, (double)allocated / calls);
    }

    /// <summary>
    /// add eax,ecx; xor eax,0x5a5a; dec ecx; jnz top — four instructions per iteration, exact flags
    /// (the loop reads ZF from DEC; ADD and XOR flags are produced and overwritten).
    /// </summary>
    /// <summary>An observer that does nothing: what remains is the cost of observation itself.</summary>
    private sealed class NullObserver : ICpuObserver
    {
        public void InstructionRetired(Cpu cpu, ulong ip, int cpl) { }
        public void FarTransfer(Cpu cpu, FarTransfer transfer) { }
        public void Fault(Cpu cpu, CpuFault fault) { }
        public void NativeCall(Cpu cpu, ulong address, string name) { }
    }

    public static (long Instructions, double Seconds) AluLoop(int bits, long iterations, bool observed = false)
    {
        const ulong code = 0x40_0000;
        var mem = new AddressSpace();
        mem.Map(code, 0x1000, PageFlags.UserCode);
        byte[] loop = [0x01, 0xC8, 0x35, 0x5A, 0x5A, 0x00, 0x00, 0xFF, 0xC9, 0x75, 0xF5, 0xF4];
        mem.WriteBytes(code, loop);
        var cpu = new Cpu(CpuProfile.AmdZen3, mem) { DeliverFaults = false };
        cpu.EnterLongMode();
        cpu.SetSegment(SegReg.CS, Segment.Flat(bits == 64 ? (ushort)0x33 : (ushort)0x23, 3, code: true, longCode: bits == 64));
        cpu.SetSegment(SegReg.SS, Segment.Flat(0x2b, 3, code: false, longCode: false));
        cpu.Rip = code;
        cpu[Gpr.Rcx] = (ulong)iterations;
        if (observed) cpu.Observer = new NullObserver();
        var sw = Stopwatch.StartNew();
        var r = cpu.Run(iterations * 4);
        sw.Stop();
        if (r.Reason != StopReason.BudgetExhausted || cpu[Gpr.Rcx] != 0)
            throw new InvalidOperationException($"benchmark loop did not complete: {r}, rcx={cpu[Gpr.Rcx]}");
        return (r.Instructions, sw.Elapsed.TotalSeconds);
    }
}
