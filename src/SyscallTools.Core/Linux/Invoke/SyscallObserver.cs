using SyscallTools.Core.Cpu;

namespace SyscallTools.Core.Linux;

/// <summary>Watches one run: counts instructions per ring, notes the entry and the exit, and optionally traces every step.</summary>
internal sealed class SyscallObserver(LinuxMachine machine, bool trace) : ICpuObserver
{
    public long User, Kernel;

    /// <summary>The user registers when a signal killed the task during the run, if one did.</summary>
    public RegisterSnapshot? KilledWith => Entries.Select(e => e.KilledWith).LastOrDefault(x => x is not null) ?? machine.Current.KilledWith;

    /// <summary>Every kernel entry from user mode in the run, in order.</summary>
    public List<KernelCallRecord> Entries { get; } = new();

    /// <summary>How many kernel entries are kept; later ones are counted in <see cref="Dropped"/> (a program may make
    /// millions of calls, and each record holds a copy of pt_regs).</summary>
    public int MaxEntries { get; init; } = int.MaxValue;

    /// <summary>Kernel entries not kept because <see cref="MaxEntries"/> were already.</summary>
    public long Dropped { get; private set; }

    /// <summary>When set, each new entry from user mode starts a fresh kernel record (for runs that make many calls).</summary>
    public bool ResetPerEntry { get; init; }
    public FarTransfer? EntryTransfer, ExitTransfer;
    public List<TraceEvent>? Events { get; } = trace ? new() : null;
    private long _seq;

    private void Add(string kind, int ring, ulong address, string text)
    {
        if (Events is null || Events.Count >= 100_000) return;
        Events.Add(new TraceEvent(++_seq, kind, ring, address, machine.Symbolize(address), text));
    }

    // A far transfer is reported while its instruction executes; the trace lists it after that instruction.
    private (string Kind, int Ring, ulong Address, string Text)? _pendingFar;

    private void FlushFar()
    {
        if (_pendingFar is { } f) Add(f.Kind, f.Ring, f.Address, f.Text);
        _pendingFar = null;
    }

    /// <summary>Only a trace needs every instruction; counting per ring is done in runs, so the CPU keeps its fast path.</summary>
    public bool PerInstruction => Events is not null;

    public void InstructionsRetired(Cpu.Cpu cpu, long count, int cpl)
    {
        if (cpl == 3) User += count; else Kernel += count;
    }

    public void InstructionRetired(Cpu.Cpu cpu, ulong ip, int cpl)
    {
        if (cpl == 3) User++; else Kernel++;
        if (Events is null) return;
        Add("insn", cpl, ip, cpu.Disassemble(ip, BitnessAt(cpu, cpl)) ?? "?");
        FlushFar();
    }

    private int BitnessAt(Cpu.Cpu cpu, int cpl) =>
        cpl == 0 ? machine.KernelBits : machine.Task.Bitness;

    public void FarTransfer(Cpu.Cpu cpu, FarTransfer t)
    {
        if (t.FromCpl == 3 && t.ToCpl == 0)
        {
            if (ResetPerEntry && EntryTransfer is not null)
            {
                machine.Current = new KernelCallRecord();
            }
            if (Entries.Count < MaxEntries) Entries.Add(machine.Current); else Dropped++;
            EntryTransfer ??= t;
            if (machine.Current.Entry == EntryKind.None)
            {
                machine.Current.Entry = t.Kind switch
                {
                    FarTransferKind.Syscall => t.FromMode == CpuMode.Long64 ? EntryKind.Syscall64 : EntryKind.SyscallCompat,
                    FarTransferKind.Sysenter => EntryKind.Sysenter,
                    FarTransferKind.SoftwareInterrupt when t.Instruction == "INT 0x80" => EntryKind.Int80,
                    _ => EntryKind.Exception,
                };
                machine.Current.EntryStub = machine.Symbolize(t.ToIp);
                machine.Current.EntryIp = t.FromIp;
            }
        }
        if (t.FromCpl == 0 && t.ToCpl == 3)
        {
            ExitTransfer = t;
            if (machine.Current.ExitInstruction is null)
            {
                machine.Current.ExitInstruction = t.Instruction.StartsWith("IRET", StringComparison.Ordinal) ? "IRET" : t.Instruction;
                machine.Current.ExitIp = t.ToIp;
            }
            // An exit the asm decided without asking C (the pre-rewrite and v4.4 fast paths): evaluate the policy now.
            if (machine.Current.Exit is null && machine.Current.Entry is not (EntryKind.None or EntryKind.Exception))
                machine.RecordExit(machine.PtRegs, slowPath: false);
        }
        FlushFar();
        _pendingFar = ("far", t.FromCpl, t.FromIp, t.ToString());
        if (t.Kind == FarTransferKind.Exception) FlushFar();
    }

    /// <summary>The first exception user code raised during the run.</summary>
    public CpuFault? UserFault { get; private set; }

    public void Fault(Cpu.Cpu cpu, CpuFault fault)
    {
        if (fault.Cpl == 3) UserFault ??= fault;
        FlushFar();
        Add("fault", fault.Cpl, fault.Rip, fault.ToString());
    }

    public void NativeCall(Cpu.Cpu cpu, ulong address, string name)
    {
        Kernel++;
        FlushFar();
        Add("call", 0, address, $"C function {name}()");
    }

    /// <summary>Emits anything still held back (call when the run ends).</summary>
    public void Finish() => FlushFar();
}
