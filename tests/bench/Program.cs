using System.Diagnostics;
using Iced.Intel;
using SyscallTools.Core.Cpu;
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
        long iterations = args.Length > 0 && long.TryParse(args[0], out var n) ? n : 50_000_000;
        // "roundtrip" as the second argument runs only the system-call round trips (for profiling).
        bool onlyRoundTrips = args.Length > 1 && args[1] == "roundtrip";
        Console.WriteLine($"SyscallTools benchmark — {Environment.ProcessorCount} cores, .NET {Environment.Version}, {iterations:N0} loop iterations");
        Console.WriteLine();
        Console.WriteLine("| workload | instructions | median s (of 5) | M instr/s (median) | M instr/s (best) |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        var workloads = new (string Name, int Bits, bool Observed)[]
        {
            ("ALU loop, 32-bit (compat mode)", 32, false),
            ("ALU loop, 64-bit", 64, false),
            ("ALU loop, 64-bit, with an observer attached", 64, true),
        };
        // Warm up every workload first so the JIT's tiered compilation has settled for all of them.
        if (onlyRoundTrips) workloads = [];
        for (int w = 0; w < 3; w++) foreach (var (_, bits, observed) in workloads) AluLoop(bits, iterations / 10, observed);
        foreach (var (name, bits, observed) in workloads)
        {
            var runs = Enumerable.Range(0, 5).Select(_ => AluLoop(bits, observed ? iterations / 4 : iterations, observed)).OrderBy(r => r.Seconds).ToArray();
            var median = runs[2];
            Console.WriteLine($"| {name} | {median.Instructions:N0} | {median.Seconds:F3} | {median.Instructions / median.Seconds / 1e6:F1} | {runs[0].Instructions / runs[0].Seconds / 1e6:F1} |");
        }
        Console.WriteLine();
        Console.WriteLine("| modelled round trip | instructions per call (user + kernel) | ns per call, wall (median of 5) | ns per call, CPU time (median of 5) | calls/s | bytes allocated per call |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var (name, model, vendor, via) in new (string, KernelModel, CpuProfile, string)[]
        {
            ("getpid via the vDSO, AMD, linux-6.18", new Linux618(), CpuProfile.AmdZen3, "vdso"),
            ("getpid via the vDSO, Intel, linux-6.18", new Linux618(), CpuProfile.IntelSkylake, "vdso"),
            ("getpid via int $0x80, AMD, linux-6.18", new Linux618(), CpuProfile.AmdZen3, "int80"),
            ("getpid via the vDSO, AMD, linux-4.2", new Linux42(), CpuProfile.AmdZen3, "vdso"),
        })
        {
            long calls = Math.Max(10_000, iterations / 500);
            RoundTrip(model, vendor, via, calls / 10);
            var runs = Enumerable.Range(0, 5).Select(_ => RoundTrip(model, vendor, via, calls)).ToArray();
            var med = runs.OrderBy(r => r.Seconds).ElementAt(2);
            var cpu = runs.OrderBy(r => r.CpuSeconds).ElementAt(2);
            Console.WriteLine($"| {name} | {med.InstructionsPerCall:F1} | {med.Seconds / calls * 1e9:F0} | {cpu.CpuSeconds / calls * 1e9:F0} | {calls / med.Seconds:N0} | {med.BytesPerCall:F0} |");
        }
        // The same round trips on this machine's kernel (Measure-HostSyscall), for scale: the model's cost per call
        // against the real one. Skipped (with the reason) where the host cannot run the probes.
        Console.WriteLine();
        Console.WriteLine($"| real round trip on this host ({SyscallTools.Core.Host.HostCapabilities.VendorString}) | ns per call (best of 3) |");
        Console.WriteLine("|---|---:|");
        foreach (var (method, bits) in SyscallTools.Core.Host.HostSyscallTiming.Methods)
        {
            var c = SyscallTools.Core.Host.HostSyscallTiming.Measure(method, bits, Math.Max(20_000, iterations / 250));
            Console.WriteLine($"| getpid via {c.Method} | {(c.NsPerCall is double ns ? ns.ToString("F0", System.Globalization.CultureInfo.InvariantCulture) : "skipped: " + c.SkipReason)} |");
        }
        return 0;
    }

    /// <summary>
    /// A 32-bit task calling getpid in a loop (esi counts down; the vDSO preserves it), with no observer attached:
    /// the cost of the modelled round trip through entry stubs, C functions and the exit instruction.
    /// </summary>
    /// <remarks>CPU time is reported beside wall time: on a shared machine it is the steadier of the two.</remarks>
    public static (double Seconds, double CpuSeconds, double InstructionsPerCall, double BytesPerCall) RoundTrip(KernelModel model, CpuProfile profile, string via, long calls)
    {
        var m = new LinuxMachine(model, profile);
        var a = new Assembler(32);
        var top = a.CreateLabel();
        var done = a.CreateLabel();
        a.mov(esi, (uint)calls);
        a.Label(ref top);
        a.mov(eax, 20);
        if (via == "vdso") a.call((uint)m.KernelVsyscall); else a.@int(0x80);
        a.dec(esi);
        a.jnz(top);
        a.Label(ref done);
        a.nop();
        var w = new ListWriter();
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

    private sealed class ListWriter : CodeWriter
    {
        public readonly List<byte> Bytes = new();
        public override void WriteByte(byte value) => Bytes.Add(value);
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
