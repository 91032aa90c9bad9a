using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Text;
using SyscallTools.Core.Cpu;

namespace SyscallTools.Core.Host;

/// <summary>How one run of a probe ended, on either kernel.</summary>
public sealed record ProbeRun
{
    public byte[] Stdout { get; init; } = [];
    /// <summary>exit_group status, when the probe exited.</summary>
    public int? ExitStatus { get; init; }
    /// <summary>The signal that killed it, when one did.</summary>
    public int? KilledBy { get; init; }
    public bool TimedOut { get; init; }
    /// <summary>What a tracer recorded (tracer scenarios).</summary>
    public TraceLog? Trace { get; init; }
    /// <summary>A problem running the probe at all (not a disagreement).</summary>
    public string? Error { get; init; }

    public string Ending => TimedOut ? "timed out" : KilledBy is int k ? $"killed by {Linux.Signal.Name(k)}" : ExitStatus is int s ? $"exit {s}" : "unknown";
}

/// <summary>What this host can do, with the reason when it cannot.</summary>
public static class HostCapabilities
{
    /// <summary>Null when probes can run here at all; otherwise why not.</summary>
    public static string? Unavailable =>
        !OperatingSystem.IsLinux() ? "the host is not Linux"
        : RuntimeInformation.OSArchitecture != Architecture.X64 || RuntimeInformation.ProcessArchitecture != Architecture.X64 ? "the host is not x86-64"
        : null;

    /// <summary>The host CPU's vendor, from CPUID leaf 0 (null for a vendor the emulator has no profile of).</summary>
    public static CpuVendor? Vendor => VendorString switch
    {
        "GenuineIntel" => CpuVendor.Intel,
        "AuthenticAMD" or "HygonGenuine" => CpuVendor.Amd,
        _ => null,
    };

    /// <summary>The CPUID vendor string (EBX, EDX, ECX of leaf 0), or "unknown" off x86.</summary>
    public static string VendorString
    {
        get
        {
            if (!X86Base.IsSupported) return "unknown";
            var (_, ebx, ecx, edx) = X86Base.CpuId(0, 0);
            var id = new byte[12];
            BitConverter.TryWriteBytes(id.AsSpan(0), ebx);
            BitConverter.TryWriteBytes(id.AsSpan(4), edx);
            BitConverter.TryWriteBytes(id.AsSpan(8), ecx);
            return Encoding.ASCII.GetString(id);
        }
    }

    private static readonly Lazy<string?> _no32 = new(() => Probe(32));
    private static readonly Lazy<string?> _no64 = new(() => Probe(64));
    private static readonly Lazy<string?> _noPtrace = new(ProbePtrace);

    /// <summary>Null when the host runs probes of this bitness (IA32 emulation for 32); otherwise why not.</summary>
    public static string? CannotRun(int bitness) => Unavailable ?? (bitness == 32 ? _no32.Value : _no64.Value);

    private static readonly Lazy<string?> _noVdso32 = new(() =>
    {
        var p = new ProbeBuilder("has-vdso-32", 32).Build();
        var run = HostProbeRunner.Run(p, null, TimeSpan.FromSeconds(10));
        return run.ExitStatus == 0 && p.Parse(run.Stdout).GetValueOrDefault("aux.sysinfo") != 0 ? null
            : "32-bit tasks get no vDSO here (no AT_SYSINFO: vdso32=0 or /proc/sys/abi/vsyscall32 is 0)";
    });

    /// <summary>Null when 32-bit tasks on this host get a vDSO (AT_SYSINFO); otherwise why not.</summary>
    public static string? NoVdso32 => CannotRun(32) ?? _noVdso32.Value;

    /// <summary>Null when this process may ptrace its probes; otherwise why not.</summary>
    public static string? CannotTrace => Unavailable ?? _no64.Value ?? _noPtrace.Value;

    private static string? Probe(int bits)
    {
        var b = new ProbeBuilder($"can-run-{bits}", bits);
        b.SaveImm("ok", 1);
        var run = HostProbeRunner.Run(b.Build(), null, TimeSpan.FromSeconds(10));
        if (run.Error is not null) return $"{bits}-bit probes cannot run here: {run.Error}";
        if (run.ExitStatus != 0) return $"a {bits}-bit probe ended with {run.Ending} (is IA32 emulation off?)";
        return null;
    }

    private static string? ProbePtrace()
    {
        var b = new ProbeBuilder("can-trace", 64);
        b.StopForTracer();
        b.SaveImm("ok", 1);
        var run = HostProbeRunner.Run(b.Build(), new DelegateTracer((_, _) => TraceResume.Syscall), TimeSpan.FromSeconds(10));
        if (run.Error is not null) return $"ptrace is not available: {run.Error}";
        return run.ExitStatus == 0 ? null : $"a traced probe ended with {run.Ending}";
    }
}

/// <summary>
/// Runs a probe on the host kernel: writes it to a private temporary directory, starts it with posix_spawn (stdout to
/// a file, no environment), and reaps it — on every path, a timeout included, the child is killed and waited for.
/// A tracer scenario is driven through ptrace; every ptrace request and waitpid runs on one dedicated thread, because
/// Linux binds a tracee to the thread that attached.
/// </summary>
public static class HostProbeRunner
{
    private const int EtxtBsy = 26;

    public static ProbeRun Run(ProbeProgram probe, TracerScript? tracer, TimeSpan timeout)
    {
        if (HostCapabilities.Unavailable is string why) return new ProbeRun { Error = why };
        if (tracer is not null && !probe.StopsForTracer) throw new ArgumentException("A traced probe must stop itself first (ProbeBuilder.StopForTracer).", nameof(tracer));
        ProbeRun? result = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try { result = RunOnThisThread(probe, tracer, timeout); }
            catch (Exception e) { failure = e; }
        }) { IsBackground = true, Name = "probe-" + probe.Name };
        thread.Start();
        thread.Join();
        if (failure is not null) return new ProbeRun { Error = failure.GetType().Name + ": " + failure.Message };
        return result!;
    }

    private static ProbeRun RunOnThisThread(ProbeProgram probe, TracerScript? tracer, TimeSpan timeout)
    {
        var dir = Directory.CreateTempSubdirectory("syscalltools-probe-");
        int pid = 0;
        bool reaped = true;
        try
        {
            string exe = Path.Combine(dir.FullName, probe.Name);
            string output = Path.Combine(dir.FullName, "stdout");
            File.WriteAllBytes(exe, probe.Elf);
            if (Native.chmod(exe, 0x1C0) != 0) return new ProbeRun { Error = $"chmod failed (errno {Marshal.GetLastPInvokeError()})" };
            IntPtr actions = Marshal.AllocHGlobal(256);
            try
            {
                Native.posix_spawn_file_actions_init(actions);
                Native.posix_spawn_file_actions_addopen(actions, 0, "/dev/null", Native.O_RDONLY, 0);
                Native.posix_spawn_file_actions_addopen(actions, 1, output, Native.O_WRONLY | Native.O_CREAT | Native.O_TRUNC, 0x180);
                Native.posix_spawn_file_actions_addopen(actions, 2, "/dev/null", Native.O_WRONLY, 0);
                // ETXTBSY: a process another thread forked (a second probe, a compiler) between our write of the file and
                // its own exec still holds the write descriptor (O_CLOEXEC closes it only at that exec). It passes: retry.
                int rc = 0;
                for (int attempt = 0; attempt < 50; attempt++)
                {
                    rc = Native.posix_spawn(out pid, exe, actions, IntPtr.Zero, [exe, null], [null]);
                    if (rc != EtxtBsy) break;
                    Thread.Sleep(10);
                }
                if (rc != 0) { pid = 0; return new ProbeRun { Error = $"posix_spawn failed: errno {rc} ({Errno(rc)})" }; }
                reaped = false;
            }
            finally
            {
                Native.posix_spawn_file_actions_destroy(actions);
                Marshal.FreeHGlobal(actions);
            }
            var deadline = Stopwatch.StartNew();
            TraceLog? log = tracer is null ? null : new TraceLog();
            int status;
            string? error = null;
            if (tracer is null)
            {
                if (!Wait(pid, 0, timeout, deadline, out status)) return new ProbeRun { TimedOut = true };
            }
            else
            {
                bool ended;
                (status, error, ended) = Trace(pid, tracer, log!, timeout, deadline);
                if (ended) reaped = true;
                if (error == "timeout") return new ProbeRun { TimedOut = true, Trace = log };
                if (error is not null) return new ProbeRun { Error = error, Trace = log };
            }
            reaped = true;
            byte[] stdout = File.Exists(output) ? File.ReadAllBytes(output) : [];
            return new ProbeRun
            {
                Stdout = stdout,
                ExitStatus = Native.WifExited(status) ? Native.WexitStatus(status) : null,
                KilledBy = Native.WifExited(status) ? null : Native.WtermSig(status),
                Trace = log,
            };
        }
        finally
        {
            if (pid > 0 && !reaped)
            {
                Native.kill(pid, Native.SIGKILL);
                Native.waitpid(pid, out _, Native.WALL);
            }
            try { dir.Delete(recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>Waits (polling, so the bound holds) for the child to exit, or with <paramref name="options"/> to stop. False on timeout.</summary>
    private static bool Wait(int pid, int options, TimeSpan timeout, Stopwatch clock, out int status)
    {
        while (true)
        {
            int r = Native.waitpid(pid, out status, options | Native.WNOHANG | Native.WALL);
            if (r == pid)
            {
                if (options == 0 && Native.WifStopped(status)) continue;
                return true;
            }
            if (r < 0 && Marshal.GetLastPInvokeError() != 4) throw new InvalidOperationException($"waitpid failed: errno {Marshal.GetLastPInvokeError()}");
            if (clock.Elapsed > timeout) return false;
            Thread.Sleep(1);
        }
    }

    private static (int Status, string? Error, bool Ended) Trace(int pid, TracerScript tracer, TraceLog log, TimeSpan timeout, Stopwatch clock)
    {
        // The probe stops itself; it is our child, so WUNTRACED reports the group stop.
        if (!Wait(pid, Native.WUNTRACED, timeout, clock, out int status)) return (0, "timeout", false);
        if (!Native.WifStopped(status)) return (status, $"the probe ended ({Describe(status)}) before stopping for the tracer", true);
        if (Native.ptrace(Native.PTRACE_SEIZE, pid, IntPtr.Zero, (IntPtr)(Native.PTRACE_O_TRACESYSGOOD | Native.PTRACE_O_EXITKILL)) < 0)
            return (0, $"PTRACE_SEIZE failed: errno {Marshal.GetLastPInvokeError()} ({Errno(Marshal.GetLastPInvokeError())})", false);
        // Seizing a stopped task re-traps it into a ptrace-visible group stop (PTRACE_EVENT_STOP).
        if (!Wait(pid, Native.WUNTRACED, timeout, clock, out status)) return (0, "timeout", false);
        if (!Native.WifStopped(status)) return (status, null, true);
        var resume = tracer.First;
        int deliver = 0;
        while (true)
        {
            long request = resume switch
            {
                TraceResume.SingleStep => Native.PTRACE_SINGLESTEP,
                TraceResume.Sysemu => Native.PTRACE_SYSEMU,
                _ => Native.PTRACE_SYSCALL,
            };
            if (Native.ptrace(request, pid, IntPtr.Zero, (IntPtr)deliver) < 0)
                return (0, $"ptrace resume {request} failed: errno {Marshal.GetLastPInvokeError()}", false);
            if (!Wait(pid, Native.WUNTRACED, timeout, clock, out status)) return (0, "timeout", false);
            if (!Native.WifStopped(status)) return (status, null, true);
            int sig = Native.WstopSig(status);
            deliver = 0;
            if (Native.WEvent(status) != 0) continue;   // a group stop or other event: resume as before
            TraceStopKind kind;
            if (sig == (Native.SIGTRAP | 0x80))
            {
                var info = new byte[88];
                if (Native.ptrace(Native.PTRACE_GET_SYSCALL_INFO, pid, (IntPtr)88, info) < 0)
                    return (0, $"PTRACE_GET_SYSCALL_INFO failed: errno {Marshal.GetLastPInvokeError()}", false);
                kind = info[0] == 2 ? TraceStopKind.SyscallExit : TraceStopKind.SyscallEntry;
            }
            else if (sig == Native.SIGTRAP && resume == TraceResume.SingleStep) kind = TraceStopKind.Step;
            else kind = TraceStopKind.Signal;
            var stop = new HostStop(pid, kind, kind == TraceStopKind.Signal ? sig : 0);
            if (++log.Stops > TraceLog.MaxStops) return (0, "the tracer script did not finish within the stop limit", false);
            resume = tracer.OnStop(stop, log);
            stop.Flush();
            if (stop.Error is not null) return (0, stop.Error, false);
            deliver = stop.Signal;
        }
    }

    private static string Describe(int status) =>
        Native.WifExited(status) ? $"exit {Native.WexitStatus(status)}" : $"signal {Native.WtermSig(status)}";

    private static string Errno(int e) => e switch
    {
        1 => "EPERM", 2 => "ENOENT", 8 => "ENOEXEC", 13 => "EACCES", 3 => "ESRCH", 22 => "EINVAL", 5 => "EIO", _ => "errno " + e,
    };

    /// <summary>A stopped host tracee: registers read once with PTRACE_GETREGS and written back with SETREGS if changed.</summary>
    private sealed class HostStop : ITraceeStop
    {
        private readonly int _pid;
        private readonly ulong[] _regs = new ulong[27];
        private bool _dirty;

        public HostStop(int pid, TraceStopKind kind, int signal)
        {
            _pid = pid;
            Kind = kind;
            Signal = signal;
            if (Native.ptrace(Native.PTRACE_GETREGS, pid, IntPtr.Zero, _regs) < 0) Error = $"PTRACE_GETREGS failed: errno {Marshal.GetLastPInvokeError()}";
        }

        public TraceStopKind Kind { get; }
        public int Signal { get; set; }
        public string? Error { get; private set; }

        public ulong Get(string register) => _regs[UserRegs.Index(register)];

        public void Set(string register, ulong value)
        {
            _regs[UserRegs.Index(register)] = value;
            _dirty = true;
        }

        public (int Code, ulong Addr)? SigInfo()
        {
            if (Kind != TraceStopKind.Signal) return null;
            var info = new byte[128];
            if (Native.ptrace(Native.PTRACE_GETSIGINFO, _pid, IntPtr.Zero, info) < 0) return null;
            // A 64-bit tracer reads the 64-bit siginfo_t (converted for compat tasks): the union starts at 16.
            return (BitConverter.ToInt32(info, 8), BitConverter.ToUInt64(info, 16));
        }

        public void Kill(int signal)
        {
            if (Native.kill(_pid, signal) != 0) Error = $"kill({signal}) failed: errno {Marshal.GetLastPInvokeError()}";
        }

        public byte[]? Read(ulong address, int length)
        {
            var bytes = new byte[length];
            for (int i = 0; i < length; i += 8)
            {
                Marshal.SetLastPInvokeError(0);
                long word = Native.ptrace(Native.PTRACE_PEEKTEXT, _pid, (IntPtr)(long)(address + (ulong)i), IntPtr.Zero);
                if (word == -1 && Marshal.GetLastPInvokeError() != 0) return null;
                var w = BitConverter.GetBytes(word);
                Array.Copy(w, 0, bytes, i, Math.Min(8, length - i));
            }
            return bytes;
        }

        public void Flush()
        {
            if (_dirty && Native.ptrace(Native.PTRACE_SETREGS, _pid, IntPtr.Zero, _regs) < 0)
                Error = $"PTRACE_SETREGS failed: errno {Marshal.GetLastPInvokeError()}";
        }
    }
}
