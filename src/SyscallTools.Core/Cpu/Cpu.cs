using SyscallTools.Core.Memory;

namespace SyscallTools.Core.Cpu;

/// <summary>
/// One x86 logical processor: architectural state, memory access through paging checks, and the
/// interpreter (Cpu.Run.cs). It knows nothing of Linux (ARCHITECTURE.md §2). Single-threaded and
/// deterministic: no wall clock and no host randomness.
/// </summary>
public sealed partial class Cpu
{
    public Cpu(CpuProfile profile, AddressSpace? memory = null)
    {
        Profile = profile;
        Memory = memory ?? new AddressSpace();
        Memory.CodePageChanged = InvalidateCodePage;
        Memory.MappingChanged = FlushDataTlb;
        Seg[(int)SegReg.CS] = Segment.Flat(0, 0, code: true, longCode: false);
        for (int i = 0; i < 6; i++) if (i != (int)SegReg.CS) Seg[i] = Segment.Flat(0, 0, code: false, longCode: false);
        Cr0 = ControlBits.Cr0Pe | ControlBits.Cr0Wp;
        UpdateMode();
    }

    public CpuProfile Profile { get; }
    public AddressSpace Memory { get; }

    // ---- General-purpose registers and RIP ----
    internal readonly ulong[] R = new ulong[16];

    public ulong Rip;

    public ulong this[Gpr r]
    {
        get => R[(int)r];
        set => R[(int)r] = value;
    }

    // ---- Segments, CPL and mode ----
    internal readonly Segment[] Seg = new Segment[6];

    public Segment GetSegment(SegReg s) => Seg[(int)s];

    /// <summary>Sets a segment register's selector and cache directly (machine set-up; no checks).</summary>
    public void SetSegment(SegReg s, Segment value)
    {
        Seg[(int)s] = value;
        if (s == SegReg.CS) { Cpl = value.Dpl; UpdateMode(); }
    }

    /// <summary>Current privilege level. Usually CS.RPL; SYSCALL/SYSENTER set it with the forced CS cache.</summary>
    public int Cpl { get; internal set; }

    public CpuMode Mode { get; private set; }

    /// <summary>Recomputes the mode as the hardware does from CR0.PE, EFER.LMA and the CS cache's L and D bits.</summary>
    internal void UpdateMode()
    {
        var cs = Seg[(int)SegReg.CS];
        if ((Cr0 & ControlBits.Cr0Pe) == 0) Mode = CpuMode.Real;
        else if ((Efer & Msr.EferLma) != 0) Mode = cs.L ? CpuMode.Long64 : cs.D ? CpuMode.Compat32 : CpuMode.Compat16;
        else Mode = cs.D ? CpuMode.Legacy32 : CpuMode.Legacy16;
        BreakBlock = true;
    }

    // ---- Control registers, EFER, descriptor-table registers ----
    private ulong _cr0, _cr4;
    public ulong Cr0 { get => _cr0; set { _cr0 = value; _controlEpoch++; FlushDataTlb(); } }
    public ulong Cr2 { get; set; }
    public ulong Cr3 { get; set; }
    public ulong Cr4 { get => _cr4; set { _cr4 = value; _controlEpoch++; FlushDataTlb(); } }

    private ulong _efer;
    public ulong Efer
    {
        get => _efer;
        set { _efer = value; _controlEpoch++; FlushDataTlb(); UpdateMode(); }
    }

    public DescriptorTable Gdtr { get; set; }
    public DescriptorTable Idtr { get; set; }

    /// <summary>The task register: selector plus the cached TSS base and limit.</summary>
    public Segment Tr;

    /// <summary>LDTR; Linux tasks run with a null LDT unless modify_ldt is used.</summary>
    public Segment Ldtr;

    // ---- MSRs ----
    private readonly Dictionary<uint, ulong> _msrs = new();

    /// <summary>Reads an MSR as RDMSR would (FS/GS base come from the segment caches); null if not modelled.</summary>
    public ulong? ReadMsr(uint index)
    {
        switch (index)
        {
            case Msr.Efer: return Efer;
            case Msr.FsBase: return Seg[(int)SegReg.FS].Base;
            case Msr.GsBase: return Seg[(int)SegReg.GS].Base;
            case Msr.Tsc: return Tsc;
            case Msr.SysenterCs or Msr.SysenterEsp or Msr.SysenterEip or Msr.Star or Msr.Lstar or Msr.Cstar
                or Msr.Fmask or Msr.KernelGsBase or Msr.TscAux:
                return MsrValue(index);
            default: return null;
        }
    }

    /// <summary>Writes an MSR as WRMSR would; false for an MSR the model does not have (WRMSR then raises #GP).</summary>
    public bool WriteMsr(uint index, ulong value)
    {
        switch (index)
        {
            case Msr.Efer:
                // LMA is read-only: it follows LME when paging is enabled.
                Efer = (value & ~Msr.EferLma) | (Efer & Msr.EferLma);
                return true;
            case Msr.FsBase: Seg[(int)SegReg.FS].Base = value; return true;
            case Msr.GsBase: Seg[(int)SegReg.GS].Base = value; return true;
            case Msr.Tsc: Tsc = value; return true;
            case Msr.SysenterCs or Msr.SysenterEsp or Msr.SysenterEip or Msr.Star or Msr.Lstar or Msr.Cstar
                or Msr.Fmask or Msr.KernelGsBase or Msr.TscAux:
                _msrs[index] = value;
                CacheMsr(index, value);
                return true;
            default: return false;
        }
    }

    internal ulong MsrValue(uint index) => index switch
    {
        // The system-call MSRs are read on every transition: kept in fields beside the bank.
        Msr.Star => _star,
        Msr.Lstar => _lstar,
        Msr.Cstar => _cstar,
        Msr.Fmask => _fmask,
        Msr.SysenterCs => _sysenterCs,
        Msr.KernelGsBase => _kernelGsBase,
        _ => _msrs.GetValueOrDefault(index),
    };

    private ulong _star, _lstar, _cstar, _fmask, _sysenterCs, _kernelGsBase;

    /// <summary>SWAPGS: exchange GS.base with IA32_KERNEL_GS_BASE.</summary>
    /// <summary>SWAPGS where it is allowed (64-bit mode, CPL 0): the compiled blocks' hit path; false changes nothing.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static bool TrySwapgs(Cpu c)
    {
        if (c.Mode != CpuMode.Long64 || c.Cpl != 0) return false;
        c.SwapGsBase();
        return true;
    }

    internal void SwapGsBase()
    {
        ulong kernel = _kernelGsBase;
        _kernelGsBase = Seg[(int)SegReg.GS].Base;
        Seg[(int)SegReg.GS].Base = kernel;
    }

    private void CacheMsr(uint index, ulong value)
    {
        switch (index)
        {
            case Msr.Star: _star = value; break;
            case Msr.Lstar: _lstar = value; break;
            case Msr.Cstar: _cstar = value; break;
            case Msr.Fmask: _fmask = value; break;
            case Msr.SysenterCs: _sysenterCs = value; break;
            case Msr.KernelGsBase: _kernelGsBase = value; break;
        }
    }

    /// <summary>Puts the CPU in long mode directly (machine set-up, as firmware plus early boot would leave it).</summary>
    public void EnterLongMode()
    {
        Cr0 |= ControlBits.Cr0Pe | ControlBits.Cr0Pg;
        Cr4 |= ControlBits.Cr4Pae;
        _efer |= Msr.EferLme | Msr.EferLma;
        _controlEpoch++;
        FlushDataTlb();
        UpdateMode();
    }

    // ---- Virtual time ----
    private ulong _tscOffset;

    /// <summary>The virtual time-stamp counter: advances one tick per retired instruction, so runs are repeatable.</summary>
    public ulong Tsc
    {
        get => InstructionsRetired + _tscOffset;
        set => _tscOffset = value - InstructionsRetired;
    }

    /// <summary>Instructions retired since the CPU was made.</summary>
    public ulong InstructionsRetired;

    // ---- Interrupt and debug state ----
    /// <summary>Set by STI and MOV SS/POP SS: the next instruction runs before interrupts (and, for MOV SS, #DB) are recognised.</summary>
    internal byte Shadow;
    internal const byte ShadowSti = 1, ShadowMovSs = 2;

    public bool InInterruptShadow => Shadow != 0;

    /// <summary>Observer for instruction, far-transfer and fault events; null costs nothing.</summary>
    public ICpuObserver? Observer { get; set; }

    public override string ToString() =>
        $"{Profile.Vendor} {Mode.Describe()} cpl={Cpl} rip=0x{Rip:x} rsp=0x{R[4]:x} rflags={RFlags.Describe(Rflags)}";
}
