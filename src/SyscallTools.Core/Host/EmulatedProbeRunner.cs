using SyscallTools.Core.Cpu;
using SyscallTools.Core.Elf;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Core.Linux.Ptrace;
using SyscallTools.Core.Linux.Vdso;

namespace SyscallTools.Core.Host;

/// <summary>
/// Runs a probe's very bytes in the emulator: a 64-bit kernel of the given model (linux-6.18 to match a current host)
/// on a CPU of the host's vendor, a task of the probe's bitness, optionally with the host's own vDSO image mapped in
/// place of the built one. A tracer script sees the emulator's ptrace stops through the same view as on the host.
/// </summary>
public static class EmulatedProbeRunner
{
    public static ProbeRun Run(ProbeProgram probe, TracerScript? tracer, CpuVendor vendor, string model = "linux-6.18",
        byte[]? vdsoImage = null, long budget = 5_000_000)
    {
        var kernel = KernelModel.Find(model) ?? throw new ArgumentException($"no kernel model '{model}'", nameof(model));
        var machine = new LinuxMachine(kernel, CpuProfile.For(vendor), 64, probe.Bitness);
        if (vdsoImage is not null && probe.Bitness == 32)
        {
            try { machine.ReplaceVdso(VdsoImport.Load(vdsoImage, 64, "host [vdso]")); }
            catch (Exception e) when (e is InvalidOperationException or InvalidVdsoImageException)
            {
                return new ProbeRun { Error = $"the host's vDSO cannot be mapped on {kernel.Name}: {e.Message}" };
            }
        }
        TraceLog? log = null;
        if (tracer is not null)
        {
            log = new TraceLog();
            var adapter = new EmulatedTracer(machine, tracer, log);
            machine.Tracer.OnStop = adapter.OnStop;
        }
        UserRunResult result;
        try { result = machine.RunProgram(new ElfReader(probe.Elf), budget); }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            return new ProbeRun { Error = e.Message, Trace = log };
        }
        string? problem = result.Oops is not null ? "kernel oops: " + result.Oops
            : !result.TaskExited ? $"the probe did not finish: {result.Outcome}" : null;
        return new ProbeRun
        {
            Stdout = machine.Task.StdoutBytes,
            ExitStatus = machine.Task.Exited && machine.Task.KilledBy is null ? machine.Task.ExitStatus : null,
            KilledBy = machine.Task.KilledBy,
            Trace = log,
            Error = problem,
        };
    }

    /// <summary>Feeds the emulator's Tracer stops to a script, from the probe's own SIGSTOP on (which it swallows).</summary>
    private sealed class EmulatedTracer(LinuxMachine machine, TracerScript script, TraceLog log)
    {
        private bool _started;
        private TraceResume _resume;

        public void OnStop(PtraceStop stop)
        {
            if (!_started)
            {
                // Before the probe's SIGSTOP the tracer is not attached yet on the host: nothing is seen.
                if (stop.Kind == PtraceStopKind.SignalDelivery && stop.Signal == Signal.SIGSTOP)
                {
                    stop.Signal = 0;
                    _started = true;
                    Apply(script.First);
                }
                return;
            }
            TraceStopKind kind = stop.Kind switch
            {
                PtraceStopKind.SyscallEntry => TraceStopKind.SyscallEntry,
                PtraceStopKind.SyscallExit => TraceStopKind.SyscallExit,
                _ when stop.Signal == Signal.SIGTRAP && _resume == TraceResume.SingleStep => TraceStopKind.Step,
                _ => TraceStopKind.Signal,
            };
            // PTRACE_SINGLESTEP resumes without TIF_SYSCALL_TRACE: the host would show no syscall stops then.
            if (_resume == TraceResume.SingleStep && kind is TraceStopKind.SyscallEntry or TraceStopKind.SyscallExit) return;
            // PTRACE_SYSEMU: only entry stops.
            if (++log.Stops > TraceLog.MaxStops) return;
            var view = new View(machine, stop, kind);
            Apply(script.OnStop(view, log));
            if (kind == TraceStopKind.Step) stop.Signal = view.Signal == Signal.SIGTRAP ? 0 : view.Signal;
            else stop.Signal = view.Signal;
        }

        private void Apply(TraceResume resume)
        {
            _resume = resume;
            machine.Tracer.SingleStep = resume == TraceResume.SingleStep;
            machine.Tracer.Sysemu = resume == TraceResume.Sysemu;
        }
    }

    private sealed class View(LinuxMachine machine, PtraceStop stop, TraceStopKind kind) : ITraceeStop
    {
        public TraceStopKind Kind => kind;
        public int Signal { get; set; } = kind is TraceStopKind.Signal or TraceStopKind.Step ? stop.Signal : 0;

        // A 64-bit tracer reads the whole 64-bit pt_regs, r8..r15 and the upper halves included, even of a compat task.
        public ulong Get(string register) =>
            stop.TaskBits == 32 && machine.KernelBits == 64 ? stop.Regs[register] : stop.Peek(register);

        public void Set(string register, ulong value) => stop.Poke(register, value);

        public void Kill(int signal) => machine.SendSignal(signal);

        public (int Code, ulong Addr)? SigInfo()
        {
            if (kind != TraceStopKind.Signal) return null;
            var info = machine.SigInfoForTracer(stop.Signal);
            int union = machine.Task.Bitness == 32 ? 12 : 16;
            ulong addr = machine.Task.Bitness == 32 ? BitConverter.ToUInt32(info, union) : BitConverter.ToUInt64(info, union);
            return (BitConverter.ToInt32(info, 8), addr);
        }

        public byte[]? Read(ulong address, int length)
        {
            var b = new byte[length];
            return machine.Memory.TryReadBytes(address, b) ? b : null;
        }
    }
}
