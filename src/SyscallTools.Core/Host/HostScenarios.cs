using System.Globalization;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux;

namespace SyscallTools.Core.Host;


/// <summary>
/// A named experiment run both ways: a probe (built on demand), an optional tracer, and the observables read from the
/// probe's output and the tracer's log. Every value that is an address is shown relative to something both sides
/// share — a probe label, the vDSO base (AT_SYSINFO_EHDR), the stack pointer exec left (sp0) — never as a number.
/// </summary>
public sealed class HostScenario
{
    public required string Name { get; init; }
    public required string Description { get; init; }
    public required int Bitness { get; init; }
    public required Func<ProbeProgram> Build { get; init; }
    /// <summary>A fresh tracer script per run (scripts keep state), or null for a plain run.</summary>
    public Func<TracerScript>? Tracer { get; init; }
    /// <summary>Extra observables beyond the standard ones.</summary>
    public Func<ProbeProgram, ProbeRun, IReadOnlyDictionary<string, ulong>, IEnumerable<(string, string)>>? Observe { get; init; }
    /// <summary>The probe needs the 32-bit vDSO (AT_SYSINFO, or the landing pad a fast 32-bit entry returns to).</summary>
    public bool NeedsVdso { get; init; }

    /// <summary>Record the exec-time registers (only the exec scenarios do: every probe records them).</summary>
    public bool ShowExec { get; init; }

    private ProbeProgram? _probe;
    public ProbeProgram Probe => _probe ??= Build();

    /// <summary>Why this scenario cannot run on the host, or null.</summary>
    public string? CannotRunOnHost => HostCapabilities.CannotRun(Bitness) ?? (Tracer is not null ? HostCapabilities.CannotTrace : null)
        ?? (NeedsVdso ? HostCapabilities.NoVdso32 : null);

    /// <summary>The observables of one run, in a stable order.</summary>
    public IReadOnlyList<(string Field, string Value)> Observables(ProbeRun run)
    {
        var rows = new List<(string, string)>();
        var probe = Probe;
        if (run.Error is not null && run.Stdout.Length == 0) { rows.Add(("error", run.Error)); return rows; }
        var v = probe.Parse(run.Stdout);
        var f = new ValueFormatter(probe, v);
        rows.Add(("ending", run.Ending));
        if (ShowExec)
        {
            foreach (var name in v.Keys.Where(k => k.StartsWith("exec.", StringComparison.Ordinal)))
                rows.Add((name, name.EndsWith(".flags", StringComparison.Ordinal) ? f.Hex(v[name]) : f.Format(v[name])));
        }
        if (v.TryGetValue("phase", out var phase) && phase != 0)
        {
            rows.Add(("phase", phase switch { 1 => "returned", 2 => "signal handler ran", 3 => "resumed elsewhere", _ => phase.ToString(CultureInfo.InvariantCulture) }));
            foreach (var (name, value) in v)
            {
                if (name.StartsWith("after.", StringComparison.Ordinal) && phase != 2)
                {
                    rows.Add((name, name == "after.flags" ? f.Hex(value) : f.Format(value)));
                    if (name == "after.ax")
                    {
                        long ret = probe.Bitness == 32 ? (int)(uint)value : (long)value;
                        rows.Add(("return", ret.ToString(CultureInfo.InvariantCulture)));
                        rows.Add(("errno", Errno.FromReturn(ret) ?? "-"));
                    }
                }
                else if (name.StartsWith("trap.", StringComparison.Ordinal))
                {
                    if (value != 0) rows.Add((name, f.Format(value)));
                }
                else if (name.StartsWith("count.", StringComparison.Ordinal))
                    rows.Add((name, value.ToString(CultureInfo.InvariantCulture)));
                else if (name.StartsWith("sig.", StringComparison.Ordinal) && phase == 2)
                {
                    rows.Add((name, name switch
                    {
                        "sig.signo" => Signal.Name((int)value),
                        "sig.code" or "sig.trapno" => ((int)value).ToString(CultureInfo.InvariantCulture),
                        "sig.err" or "sig.flags" => f.Hex(value),
                        _ => f.Format(value),
                    }));
                }
            }
        }
        if (run.Trace is { } log)
        {
            foreach (var (name, value) in log.Values)
            {
                string shown = name.EndsWith(".insn", StringComparison.Ordinal) ? BitConverter.ToString(BitConverter.GetBytes((ushort)value)).Replace('-', ' ').ToLowerInvariant()
                    : name.EndsWith(".kind", StringComparison.Ordinal) ? ((TraceStopKind)value).ToString()
                    : name.EndsWith(".signal", StringComparison.Ordinal) || name.EndsWith(".queued", StringComparison.Ordinal) ? Signal.Name((int)value)
                    : name.EndsWith(".orig_ax", StringComparison.Ordinal) || name.EndsWith(".nr", StringComparison.Ordinal) ? ((long)value).ToString(CultureInfo.InvariantCulture)
                    : name.EndsWith(".si_code", StringComparison.Ordinal) ? ((int)value).ToString(CultureInfo.InvariantCulture)
                    : name.EndsWith(".ax", StringComparison.Ordinal) && (long)value is < 0 and >= -4095 ? $"{(long)value} ({Errno.FromReturn((long)value)})"
                    : name.EndsWith(".flags", StringComparison.Ordinal) ? f.Hex(value)
                    : f.Format(value);
                rows.Add((name, shown));
            }
        }
        if (Observe is not null) rows.AddRange(Observe(probe, run, v));
        if (run.Error is not null) rows.Add(("error", run.Error));
        return rows;
    }

    /// <summary>Shows values so that both kernels' can be compared: addresses relative to what the probe knows.</summary>
    public sealed class ValueFormatter(ProbeProgram probe, IReadOnlyDictionary<string, ulong> values)
    {
        private readonly ulong _sp0 = values.GetValueOrDefault("exec.sp");
        private readonly ulong _vdso = values.GetValueOrDefault("aux.vdso");

        public string Hex(ulong v) => probe.Bitness == 32 && v <= uint.MaxValue ? $"0x{v:x8}" : $"0x{v:x}";

        public string Format(ulong v)
        {
            if (probe.Symbolize(v) is string s) return "probe:" + s;
            if (_vdso != 0 && v >= _vdso && v < _vdso + 0x4000) return $"vdso+0x{v - _vdso:x}";
            if (_sp0 != 0 && v >= _sp0 - 0x1000 && v < _sp0 + 0x1000)
                return v >= _sp0 ? $"sp0+0x{v - _sp0:x}" : $"sp0-0x{_sp0 - v:x}";
            return Hex(v);
        }
    }
}

/// <summary>The scenario catalog: what Compare-HostKernel can run.</summary>
public static class HostScenarios
{
    /// <summary>CF PF AF ZF SF DF OF NT AC set (and IF, bit 1): every flag a syscall should hand back as it found it.</summary>
    public const long SentinelFlags = 0x44ED7;

    public const int SIGILL = 4, SIGTRAP = 5, SIGSEGV = 11, SIGBUS = 7;

    private static readonly Lazy<IReadOnlyList<HostScenario>> _all = new(Create);
    public static IReadOnlyList<HostScenario> All => _all.Value;

    public static HostScenario? Find(string name) => All.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));

    private static IReadOnlyList<HostScenario> Create()
    {
        var list = new List<HostScenario>
        {
            new() { Name = "exec-32", Description = "registers, flags and selectors at the first instruction of a 32-bit program", Bitness = 32, ShowExec = true, Build = () => new ProbeBuilder("exec-32", 32).Build() },
            new() { Name = "exec-64", Description = "registers, flags and selectors at the first instruction of a 64-bit program", Bitness = 64, ShowExec = true, Build = () => new ProbeBuilder("exec-64", 64).Build() },
        };
        foreach (var (method, bits) in ProbeEntries.Methods)
        {
            bool i386 = bits == 32 || method == "int80";
            string n = $"{method}-{bits}";
            list.Add(Call($"{n}-close", $"close(-1) through {Describe(method, bits)}: -EBADF, every register and flag after", bits, method, i386 ? 6 : 3, -1));
            list.Add(Call($"{n}-enosys", $"system call 1023 (none) through {Describe(method, bits)}: -ENOSYS", bits, method, 1023));
        }
        list.Add(Call("syscall-64-highbits", "SYSCALL with garbage in RAX's upper half: 6.x takes the number as an int (close)", 64, "syscall", unchecked((long)0xFFFF_FFFF_0000_0003UL), -1));
        list.Add(new HostScenario
        {
            Name = "badstack-vdso-32", Bitness = 32, NeedsVdso = true,
            Description = "call *AT_SYSINFO with ESP pointing at an unmapped page: the push faults, no handler can run, SIGSEGV kills",
            Build = () =>
            {
                var b = new ProbeBuilder("badstack-vdso-32", 32);
                b.InstallHandler(SIGSEGV, "handler");
                b.Asm("mov esp, 0x1000").Asm("mov eax, 20");
                b.Asm($"call dword ptr [0x{b.Slot("aux.sysinfo"):x}]");
                b.SaveImm("phase", 1).Asm("jmp finish");
                b.SignalRecorder();
                return b.Build();
            },
        });
        list.Add(new HostScenario
        {
            Name = "badstack-vdso-32-traced", Bitness = 32, NeedsVdso = true,
            Description = "the bad-stack vDSO call under a tracer: the SIGSEGV signal stop (IP, SP, si_code, si_addr), then the kill",
            Build = () =>
            {
                var b = new ProbeBuilder("badstack-vdso-32-traced", 32);
                b.StopForTracer();
                b.Asm("mov esp, 0x1000").Asm("mov eax, 20");
                b.Asm("call_site:").Asm($"call dword ptr [0x{b.Slot("aux.sysinfo"):x}]");
                b.SaveImm("phase", 1).Asm("jmp finish");
                return b.Build();
            },
            Tracer = () => new DelegateTracer((stop, log) =>
            {
                if (stop.Kind == TraceStopKind.Signal)
                {
                    log.Add($"signal{log.Stops}.signal", (ulong)stop.Signal);
                    log.Add($"signal{log.Stops}.ip", stop.Get("ip"));
                    log.Add($"signal{log.Stops}.sp", stop.Get("sp"));
                    if (stop.SigInfo() is var (code, addr))
                    {
                        log.Add($"signal{log.Stops}.si_code", (ulong)code);
                        log.Add($"signal{log.Stops}.si_addr", addr);
                    }
                }
                return TraceResume.Syscall;
            }),
        });
        foreach (int bits in new[] { 32, 64 })
        {
            string name = $"pagefault-{bits}";
            list.Add(new HostScenario
            {
                Name = name, Bitness = bits,
                Description = "a user read of an unmapped page: SIGSEGV, SEGV_MAPERR, si_addr, trapno 14, the error code, the IP",
                Build = () =>
                {
                    var b = new ProbeBuilder(name, bits);
                    b.InstallHandler(SIGSEGV, "handler");
                    b.Asm("fault_insn:").Asm($"mov {b.Hw("ax")}, [0x1008]");
                    b.SaveImm("phase", 1).Asm("jmp finish");
                    b.SignalRecorder();
                    return b.Build();
                },
            });
        }
        list.Add(new HostScenario
        {
            Name = "vdso-32-auxv", Bitness = 32, NeedsVdso = true,
            Description = "AT_SYSINFO relative to AT_SYSINFO_EHDR: where __kernel_vsyscall sits in the vDSO",
            Build = () => new ProbeBuilder("vdso-32-auxv", 32).Build(),
            Observe = (p, _, v) => [("aux.sysinfo", new HostScenario.ValueFormatter(p, v).Format(v.GetValueOrDefault("aux.sysinfo")))],
        });

        // Tracer scenarios: a 64-bit tracer (this process) at the stops of one system call.
        foreach (var (method, bits) in new[] { ("int80", 32), ("vdso", 32), ("sysenter", 32), ("syscall", 64), ("int80", 64) })
        {
            bool i386 = bits == 32 || method == "int80";
            string name = $"ptrace-{method}-{bits}";
            list.Add(new HostScenario
            {
                Name = name, Bitness = bits, NeedsVdso = UsesVdso(method, bits),
                Description = $"PTRACE_SYSCALL stops of close(-1) through {Describe(method, bits)}: ip, orig_ax, ax, arguments, r8/r11, the bytes at ip-2",
                Build = () => CallProbe(name, bits, method, i386 ? 6 : 3, [-1], stopFirst: true),
                Tracer = () => new SyscallStopsTracer(i386),
            });
        }
        list.Add(Edit("ptrace-setip-64", "at the exit stop the tracer moves RIP to another label: the kernel must return there (by IRET)",
            (s, p) => s.Set("ip", p.Labels["elsewhere"])));
        list.Add(Edit("ptrace-setrcx-64", "at the exit stop the tracer writes RCX and R11: the program must see the written values",
            (s, _) => { s.Set("cx", 0x1234_5678); s.Set("r11", 0x0000_0000_0000_0a97); }));
        list.Add(Edit("ptrace-noncanonical-64", "at the exit stop the tracer sets a non-canonical RIP: the task takes a SIGSEGV for the return, not the kernel",
            (s, _) => s.Set("ip", 0x0000_8000_0000_0000)));
        foreach (var method in new[] { "int80", "vdso", "sysenter" })
            list.Add(Edit($"ptrace-setip-{method}-32", $"at the exit stop of a call through {Describe(method, 32)} the tracer moves EIP to another label: the task resumes there, the fast exit given up for IRET",
                (s, p) => s.Set("ip", p.Labels["elsewhere"]), 32, method));
        list.Add(Step("singlestep-syscall-64", 64, "syscall"));
        list.Add(Step("singlestep-int80-32", 32, "int80"));
        list.Add(Restart("restart-read-64", 64, "syscall", "read", SaRestart, SIGWINCH, SIGUSR1));
        list.Add(Restart("restart-read-64-eintr", 64, "syscall", "read", 0, SIGUSR1));
        list.Add(Restart("restart-read-vdso-32", 32, "vdso", "read", SaRestart, SIGWINCH, SIGUSR1));
        list.Add(Restart("restart-read-int80-32-eintr", 32, "int80", "read", 0, SIGUSR1));
        list.Add(Restart("restart-nanosleep-64", 64, "syscall", "nanosleep", SaRestart, SIGWINCH));
        list.Add(Restart("restart-nanosleep-64-handler", 64, "syscall", "nanosleep", SaRestart, SIGUSR1));
        list.Add(Restart("restart-nanosleep-vdso-32", 32, "vdso", "nanosleep", SaRestart, SIGWINCH));
        list.Add(TrapFlag("tf-syscall-64", 64, "syscall"));
        list.Add(TrapFlag("tf-int80-64", 64, "int80"));
        list.Add(TrapFlag("tf-int80-32", 32, "int80"));
        list.Add(TrapFlag("tf-vdso-32", 32, "vdso"));
        list.Add(TrapFlag("tf-sysenter-32", 32, "sysenter"));
        list.Add(new HostScenario
        {
            Name = "sysemu-64", Bitness = 64,
            Description = "PTRACE_SYSEMU: the entry stop, the tracer's ax as the result, and the stop that follows when resumed with PTRACE_SYSCALL",
            Build = () => CallProbe("sysemu-64", 64, "syscall", 39, [], stopFirst: true),
            Tracer = () => new SysemuTracer(),
        });
        return list;
    }

    /// <summary>call *AT_SYSINFO, and the raw fast entries (which 6.x returns to the vDSO's landing pad).</summary>
    private static bool UsesVdso(string method, int bits) => bits == 32 && method != "int80";

    private static string Describe(string method, int bits) => (method, bits) switch
    {
        ("int80", 32) => "int $0x80",
        ("int80", 64) => "int $0x80 from 64-bit code",
        ("vdso", _) => "call *AT_SYSINFO (__kernel_vsyscall)",
        ("sysenter", _) => "a raw SYSENTER sequence outside the vDSO",
        ("syscall", 32) => "a raw 32-bit SYSCALL sequence outside the vDSO",
        _ => "SYSCALL",
    };

    private static HostScenario Call(string name, string description, int bits, string method, long nr, params long[] args) => new()
    {
        Name = name, Description = description, Bitness = bits, NeedsVdso = UsesVdso(method, bits),
        Build = () => CallProbe(name, bits, method, nr, args, stopFirst: false),
    };

    /// <summary>
    /// The standard call probe: SIGILL/SIGSEGV/SIGBUS handlers, sentinels in every register, the sentinel flags, the
    /// call by <paramref name="method"/>, then every register and the flags recorded (phase 1) — or, if the entry
    /// faults, the signal as the handler saw it (phase 2).
    /// </summary>
    public static ProbeProgram CallProbe(string name, int bits, string method, long nr, long[] args, bool stopFirst,
        Action<ProbeBuilder>? setup = null, Action<ProbeBuilder, string[]>? loadArgs = null, Action<ProbeBuilder>? extra = null)
    {
        var b = new ProbeBuilder(name, bits);
        foreach (var sig in new[] { SIGILL, SIGSEGV, SIGBUS }) b.InstallHandler(sig, "handler");
        setup?.Invoke(b);
        if (stopFirst) b.StopForTracer();
        bool i386 = bits == 32 || method == "int80";
        string[] argRegs = i386 ? ["bx", "cx", "dx", "si", "di", "bp"] : ["di", "si", "dx", "r10", "r8", "r9"];
        b.LoadSentinels();
        for (int i = 0; i < args.Length; i++)
            b.Asm($"mov {b.Hw(argRegs[i])}, {(i386 ? (uint)args[i] : (ulong)args[i]).ToString(CultureInfo.InvariantCulture)}");
        b.Asm($"push 0x{SentinelFlags:x}").Asm(bits == 32 ? "popfd" : "popfq");
        loadArgs?.Invoke(b, argRegs.Select(r => b.Hw(r)).ToArray());
        b.Asm(bits == 64 && (ulong)nr > uint.MaxValue ? $"mov rax, 0x{(ulong)nr:x}" : $"mov {b.Hw("ax")}, {nr}");
        b.Asm("call_site:");
        ProbeEntries.EmitCall(b, method, bits);
        b.Asm("returned:");
        b.SaveAll("after");
        b.SaveImm("phase", 1);
        b.Asm("jmp finish");
        b.Asm("elsewhere:");
        b.SaveAll("after");
        b.SaveImm("phase", 3);
        b.Asm("jmp finish");
        ProbeEntries.EmitRawEntries(b, method, bits);
        extra?.Invoke(b);
        b.SignalRecorder();
        return b.Build();
    }

    public const int SIGUSR1 = 10, SIGWINCH = 28, SaRestart = 0x1000_0000;

    /// <summary>
    /// An interrupted blocking call and its restart: the probe makes a pipe and installs a SIGUSR1 handler (which
    /// counts, writes one byte into the pipe and returns through rt_sigreturn), then calls read on the empty pipe or
    /// nanosleep(100 ms). The tracer queues <paramref name="signals"/> one per entry stop of that call (SIGWINCH: ignored
    /// by default, so no handler runs) and records every stop: the -ERESTART* value at the exit stop, the signal stop,
    /// the restarted entry at ip-2 (restart_syscall for nanosleep without a handler), the final result.
    /// </summary>
    private static HostScenario Restart(string name, int bits, string method, string call, long usr1Flags, params int[] signals)
    {
        bool i386 = bits == 32 || method == "int80";
        long nr = (call, i386) switch { ("read", true) => 3, ("read", false) => 0, (_, true) => 162, _ => 35 };
        string what = string.Join(", then ", signals.Select(sg => sg == SIGWINCH ? "SIGWINCH (ignored)" : (usr1Flags & SaRestart) != 0 ? "SIGUSR1 (handler, SA_RESTART)" : "SIGUSR1 (handler, no SA_RESTART)"));
        return new HostScenario
        {
            Name = name, Bitness = bits, NeedsVdso = UsesVdso(method, bits),
            Description = $"{(call == "read" ? "read() on an empty pipe" : "nanosleep(100 ms)")} through {Describe(method, bits)} interrupted by {what}: the restart, as the tracer and the program see it",
            Build = () =>
            {
                return CallProbe(name, bits, method, nr, [], stopFirst: true,
                    setup: b =>
                    {
                        ulong fds = b.ScratchAddress + 0x100, ts = b.ScratchAddress + 0x180, x = b.ScratchAddress + 0x300;
                        b.InstallHandler(SIGUSR1, "usr1", usr1Flags, "restorer");
                        b.Sys(bits == 32 ? 42 : 22, (long)fds);
                        b.Asm($"mov byte ptr [0x{x:x}], 0x78");
                        // 100 ms: long enough that the tracer's signal, queued at the entry stop, always finds the sleep in
                        // progress on a busy host (with 1 ms the host once finished the sleep first: ax 0, no restart).
                        b.Asm($"mov dword ptr [0x{ts + (ulong)(bits / 8):x}], 100000000");
                    },
                    loadArgs: (b, a) =>
                    {
                        ulong fds = b.ScratchAddress + 0x100, ts = b.ScratchAddress + 0x180, buf = b.ScratchAddress + 0x200;
                        if (call == "read")
                        {
                            b.Asm($"mov {a[0]}, 0").Asm($"mov {(a[0].StartsWith('r') ? "e" + a[0][1..] : a[0])}, [0x{fds:x}]");
                            b.Asm($"mov {a[1]}, 0x{buf:x}").Asm($"mov {a[2]}, 16");
                        }
                        else b.Asm($"mov {a[0]}, 0x{ts:x}").Asm($"mov {a[1]}, 0");
                    },
                    extra: b =>
                    {
                        ulong fds = b.ScratchAddress + 0x100, x = b.ScratchAddress + 0x300;
                        b.Asm("usr1:").Asm($"inc dword ptr [0x{b.Slot("count.usr1"):x}]");
                        if (bits == 32)
                            b.Asm($"mov ebx, [0x{fds + 4:x}]").Asm($"mov ecx, 0x{x:x}").Asm("mov edx, 1").Asm("mov eax, 4").Asm("int 0x80");
                        else
                            b.Asm($"mov edi, [0x{fds + 4:x}]").Asm($"mov esi, 0x{x:x}").Asm("mov edx, 1").Asm("mov eax, 1").Asm("syscall");
                        b.Asm("ret");
                        b.Restorer();
                    });
            },
            Tracer = () => new RestartTracer(nr, signals),
        };
    }

    /// <summary>Queues one signal per entry stop of call <c>nr</c>; records every stop (kind, nr, ax, ip, signal).</summary>
    private sealed class RestartTracer(long nr, int[] signals) : TracerScript
    {
        private int _n, _sent;

        public override TraceResume OnStop(ITraceeStop stop, TraceLog log)
        {
            if (++_n > 16) return TraceResume.Syscall;
            string p = $"stop{_n:00}";
            log.Add($"{p}.kind", (ulong)stop.Kind);
            if (stop.Kind == TraceStopKind.Signal) log.Add($"{p}.signal", (ulong)stop.Signal);
            else
            {
                log.Add($"{p}.nr", stop.Get("orig_ax"));
                if (stop.Kind == TraceStopKind.SyscallExit) log.Add($"{p}.ax", stop.Get("ax"));
            }
            log.Add($"{p}.ip", stop.Get("ip"));
            if (stop.Kind == TraceStopKind.SyscallEntry && (long)stop.Get("orig_ax") == nr && _sent < signals.Length)
            {
                log.Add($"{p}.queued", (ulong)signals[_sent]);
                stop.Kill(signals[_sent++]);
            }
            return TraceResume.Syscall;
        }
    }

    /// <summary>
    /// The program sets TF itself around a system call, with a SIGTRAP handler (SA_NODEFER not needed: the handler runs
    /// with TF clear and sigreturn restores it) that records the IP of each trap: which instructions trap, inside the
    /// vDSO too, and where the call's own trap lands.
    /// </summary>
    private static HostScenario TrapFlag(string name, int bits, string method)
    {
        const int MaxTraps = 24;
        return new HostScenario
        {
            Name = name, Bitness = bits, NeedsVdso = UsesVdso(method, bits),
            Description = $"TF set by the program around close(-1) through {Describe(method, bits)}: the IP of every SIGTRAP its handler sees",
            Build = () => CallProbe(name, bits, method, bits == 32 || method == "int80" ? 6 : 3, [-1], stopFirst: false,
                setup: b =>
                {
                    for (int i = 0; i < MaxTraps; i++) b.Slot($"trap.{i:00}");
                    b.InstallHandler(SIGTRAP, "trap", 0, "restorer");
                },
                loadArgs: (b, _) =>
                {
                    // TF joins the sentinel flags; the first trap follows the instruction after the POPF that sets it.
                    b.Asm($"push 0x{SentinelFlags | 0x100:x}").Asm(bits == 32 ? "popfd" : "popfq").Asm("tf_on:").Asm("nop");
                },
                extra: b =>
                {
                    ulong traps = b.Slot("trap.00"), count = b.Slot("count.traps");
                    b.Asm("trap:");
                    if (bits == 32)
                        b.Asm("mov ebx, [esp+12]").Asm($"mov eax, [0x{count:x}]").Asm($"cmp eax, {MaxTraps}").Asm("jae trap_full")
                         .Asm("mov ecx, [ebx+76]").Asm($"mov edx, 0x{traps:x}").Asm("mov [edx+eax*8], ecx")
                         .Asm("trap_full:").Asm($"inc dword ptr [0x{count:x}]")
                         // Enough: clear TF in the frame so sigreturn does not bring it back.
                         .Asm($"cmp dword ptr [0x{count:x}], {MaxTraps}").Asm("jb trap_ret").Asm("and dword ptr [ebx+84], 0xfffffeff")
                         .Asm("trap_ret:").Asm("ret");
                    else
                        b.Asm($"mov rax, [0x{count:x}]").Asm($"cmp rax, {MaxTraps}").Asm("jae trap_full")
                         .Asm("mov rcx, [rdx+168]").Asm($"mov rsi, 0x{traps:x}").Asm("mov [rsi+rax*8], rcx")
                         .Asm("trap_full:").Asm($"inc qword ptr [0x{count:x}]")
                         .Asm($"cmp qword ptr [0x{count:x}], {MaxTraps}").Asm("jb trap_ret").Asm("and qword ptr [rdx+176], -257")
                         .Asm("trap_ret:").Asm("ret");
                    b.Restorer();
                }),
        };
    }

    private static HostScenario Edit(string name, string description, Action<ITraceeStop, ProbeProgram> edit, int bits = 64, string method = "syscall")
    {
        HostScenario? self = null;
        self = new HostScenario
        {
            Name = name, Description = description, Bitness = bits, NeedsVdso = UsesVdso(method, bits),
            Build = () => CallProbe(name, bits, method, bits == 32 || method == "int80" ? 6 : 3, [-1], stopFirst: true),
            Tracer = () => new EditAtExitTracer(s => edit(s, self!.Probe)),
        };
        return self;
    }

    private static HostScenario Step(string name, int bits, string method)
    {
        HostScenario? self = null;
        self = new HostScenario
        {
            Name = name, Bitness = bits, NeedsVdso = UsesVdso(method, bits),
            Description = $"PTRACE_SINGLESTEP across {Describe(method, bits)} (getpid): the IP of every step stop",
            Build = () =>
            {
                var b = new ProbeBuilder(name, bits);
                b.StopForTracer();
                b.Asm("step_begin:").Asm($"mov eax, {(bits == 32 ? 20 : 39)}").Asm(method == "int80" ? "int 0x80" : "syscall");
                b.Asm("step_after:").Asm("nop").Asm("nop").Asm("step_end:").Asm("nop");
                return b.Build();
            },
            Tracer = () => new StepTracer(() => self!.Probe.Labels["step_end"]),
        };
        return self;
    }

    /// <summary>Records the entry and exit stop of the first system call after the SIGSTOP.</summary>
    private sealed class SyscallStopsTracer(bool i386) : TracerScript
    {
        private int _seen;

        public override TraceResume OnStop(ITraceeStop stop, TraceLog log)
        {
            if (_seen >= 2 || stop.Kind is not (TraceStopKind.SyscallEntry or TraceStopKind.SyscallExit)) return TraceResume.Syscall;
            string p = stop.Kind == TraceStopKind.SyscallEntry ? "entry" : "exit";
            _seen++;
            log.Add($"{p}.ip", stop.Get("ip"));
            log.Add($"{p}.orig_ax", stop.Get("orig_ax"));
            log.Add($"{p}.ax", stop.Get("ax"));
            foreach (var r in i386 ? new[] { "bx", "cx", "dx", "si", "di", "bp" } : ["di", "si", "dx", "r10", "r8", "r9"]) log.Add($"{p}.{r}", stop.Get(r));
            foreach (var r in new[] { "r8", "r9", "r10", "r11", "cx" }) if (i386 || r is "r11" or "cx") log.Add($"{p}.{r}", stop.Get(r));
            log.Add($"{p}.flags", stop.Get("flags"));
            log.Add($"{p}.sp", stop.Get("sp"));
            if (stop.Read(stop.Get("ip") - 2, 2) is byte[] insn) log.Add($"{p}.ip-2.insn", BitConverter.ToUInt16(insn));
            return TraceResume.Syscall;
        }
    }

    /// <summary>At the exit stop of the first call, applies an edit; records any signal stop after it.</summary>
    private sealed class EditAtExitTracer(Action<ITraceeStop> edit) : TracerScript
    {
        private bool _done;

        public override TraceResume OnStop(ITraceeStop stop, TraceLog log)
        {
            if (!_done && stop.Kind == TraceStopKind.SyscallExit)
            {
                _done = true;
                log.Add("exit.ip", stop.Get("ip"));
                edit(stop);
            }
            else if (_done && stop.Kind == TraceStopKind.Signal)
            {
                log.Add("signal-stop.signal", (ulong)stop.Signal);
                log.Add("signal-stop.ip", stop.Get("ip"));
                if (stop.SigInfo() is var (code, addr))
                {
                    log.Add("signal-stop.si_code", (ulong)code);
                    log.Add("signal-stop.si_addr", addr);
                }
            }
            return TraceResume.Syscall;
        }
    }

    /// <summary>Single-steps from the SIGSTOP to a label, recording each step stop's IP; then runs on with PTRACE_SYSCALL.</summary>
    private sealed class StepTracer(Func<ulong> end) : TracerScript
    {
        private bool _done;
        public override TraceResume First => TraceResume.SingleStep;

        public override TraceResume OnStop(ITraceeStop stop, TraceLog log)
        {
            if (_done) return TraceResume.Syscall;
            if (stop.Kind == TraceStopKind.Step)
            {
                log.Add($"step{log.Values.Count}.ip", stop.Get("ip"));
                if (stop.Get("ip") >= end()) { _done = true; return TraceResume.Syscall; }
                return TraceResume.SingleStep;
            }
            log.Add($"stop{log.Values.Count}.kind", (ulong)stop.Kind);
            return TraceResume.SingleStep;
        }
    }

    /// <summary>PTRACE_SYSEMU at the first call: records the entry stop, makes ax the result, then resumes with PTRACE_SYSCALL.</summary>
    private sealed class SysemuTracer : TracerScript
    {
        private int _n;
        public override TraceResume First => TraceResume.Sysemu;

        public override TraceResume OnStop(ITraceeStop stop, TraceLog log)
        {
            _n++;
            if (_n == 1)
            {
                log.Add("stop1.kind", (ulong)stop.Kind);
                log.Add("stop1.orig_ax", stop.Get("orig_ax"));
                log.Add("stop1.ax", stop.Get("ax"));
                log.Add("stop1.ip", stop.Get("ip"));
                stop.Set("ax", 0x4242);
            }
            else if (_n == 2)
            {
                log.Add("stop2.kind", (ulong)stop.Kind);
                log.Add("stop2.orig_ax", stop.Get("orig_ax"));
                log.Add("stop2.ax", stop.Get("ax"));
                log.Add("stop2.ip", stop.Get("ip"));
            }
            return TraceResume.Syscall;
        }
    }
}
