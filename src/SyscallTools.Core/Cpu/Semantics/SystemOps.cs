using Iced.Intel;
using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu.Semantics;

/// <summary>
/// NOP PAUSE ENDBR fences CPUID RDTSC UD2 HLT SWAPGS RDMSR WRMSR, MOV to/from control and segment registers,
/// LGDT LIDT LTR SGDT SIDT STR, INVLPG. Privileged ones raise #GP(0) outside ring 0.
/// </summary>
internal sealed class SystemOps
{
    /// <summary>Handlers are instance methods: delegates to them are called without the static-delegate thunk.</summary>
    public static readonly SystemOps Instance = new();

    public Exec? Bind(Op op)
    {
        var i = op.I;
        switch (op.Mnemonic)
        {
            case Mnemonic.Nop or Mnemonic.Pause or Mnemonic.Endbr32 or Mnemonic.Endbr64
                or Mnemonic.Lfence or Mnemonic.Mfence or Mnemonic.Sfence or Mnemonic.Prefetchnta
                or Mnemonic.Prefetcht0 or Mnemonic.Prefetcht1 or Mnemonic.Prefetcht2 or Mnemonic.Prefetchw:
                return Nop;
            // RDSSP is in the hint-NOP space: with shadow stacks off (the model has no CET) it leaves its register
            // unchanged (SDM Vol. 2B RDSSP). glibc's unwinder zeroes the register first and reads "no shadow stack".
            case Mnemonic.Rdsspd or Mnemonic.Rdsspq:
                return Nop;
            case Mnemonic.Cpuid: return Cpuid;
            case Mnemonic.Rdtsc: return Rdtsc;
            case Mnemonic.Rdtscp: return Rdtscp;
            case Mnemonic.Ud0 or Mnemonic.Ud1 or Mnemonic.Ud2: return Ud;
            case Mnemonic.Hlt: return Hlt;
            case Mnemonic.Swapgs: return Swapgs;
            case Mnemonic.Rdmsr: return Rdmsr;
            case Mnemonic.Wrmsr: return Wrmsr;
            case Mnemonic.Lgdt or Mnemonic.Lidt: return LoadTableRegister;
            case Mnemonic.Sgdt or Mnemonic.Sidt: return StoreTableRegister;
            case Mnemonic.Ltr: return Ltr;
            case Mnemonic.Str: return static (c, op) => c.WriteOp(op.A, c.Tr.Selector);
            case Mnemonic.Invlpg: return static (c, _) => RequireRing0(c, "INVLPG");
            case Mnemonic.Lss or Mnemonic.Lds or Mnemonic.Les or Mnemonic.Lfs or Mnemonic.Lgs: return LoadFarPointer;
            case Mnemonic.Mov:
                if (i.Op0Kind == OpKind.Register && i.Op0Register.IsCR()) return MovToCr;
                if (i.Op1Kind == OpKind.Register && i.Op1Register.IsCR()) return MovFromCr;
                if (i.Op0Kind == OpKind.Register && i.Op0Register.IsSegmentRegister()) return MovToSreg;
                if (i.Op1Kind == OpKind.Register && i.Op1Register.IsSegmentRegister()) return MovFromSreg;
                if (i.Op0Register.IsDR() || i.Op1Register.IsDR()) return null;
                return null;
            case Mnemonic.In or Mnemonic.Out or Mnemonic.Insb or Mnemonic.Insw or Mnemonic.Insd
                or Mnemonic.Outsb or Mnemonic.Outsw or Mnemonic.Outsd:
                return Io;
            default:
                return null;
        }
    }

    internal static void RequireRing0(Cpu c, string name)
    {
        if (c.Cpl != 0) throw CpuFaultException.Gp(0, $"{name} is privileged (CPL {c.Cpl})");
    }

    private void Nop(Cpu c, Op op) { }

    private void Ud(Cpu c, Op op) => throw CpuFaultException.Ud($"{op.I.Mnemonic.ToString().ToUpperInvariant()} (architecturally undefined)");

    private void Cpuid(Cpu c, Op op)
    {
        var (a, b, cx, d) = c.Profile.Cpuid((uint)c.R[0], (uint)c.R[1], c.Mode);
        c.R[0] = a; c.R[3] = b; c.R[1] = cx; c.R[2] = d;
    }

    private static void CheckTsd(Cpu c, string name)
    {
        const ulong Cr4Tsd = 1UL << 2;
        if ((c.Cr4 & Cr4Tsd) != 0 && c.Cpl != 0) throw CpuFaultException.Gp(0, $"{name} with CR4.TSD at CPL {c.Cpl}");
    }

    private void Rdtsc(Cpu c, Op op)
    {
        CheckTsd(c, "RDTSC");
        ulong t = c.Tsc;
        c.R[0] = (uint)t;
        c.R[2] = t >> 32;
    }

    private void Rdtscp(Cpu c, Op op)
    {
        CheckTsd(c, "RDTSCP");
        ulong t = c.Tsc;
        c.R[0] = (uint)t;
        c.R[2] = t >> 32;
        c.R[1] = (uint)(c.ReadMsr(Msr.TscAux) ?? 0);
    }

    private void Hlt(Cpu c, Op op)
    {
        RequireRing0(c, "HLT");
        c._halted = true;
        c.BreakBlock = true;
    }

    private void Swapgs(Cpu c, Op op)
    {
        if (c.Mode != CpuMode.Long64) throw CpuFaultException.Ud("SWAPGS outside 64-bit mode");
        RequireRing0(c, "SWAPGS");
        c.SwapGsBase();
    }

    private void Rdmsr(Cpu c, Op op)
    {
        RequireRing0(c, "RDMSR");
        uint index = (uint)c.R[1];
        ulong v = c.ReadMsr(index) ?? throw CpuFaultException.Gp(0, $"RDMSR of unmodelled {Msr.Name(index)}");
        c.R[0] = (uint)v;
        c.R[2] = v >> 32;
    }

    private void Wrmsr(Cpu c, Op op)
    {
        RequireRing0(c, "WRMSR");
        uint index = (uint)c.R[1];
        ulong v = ((ulong)(uint)c.R[2] << 32) | (uint)c.R[0];
        if ((index is Msr.Lstar or Msr.Cstar or Msr.SysenterEip or Msr.SysenterEsp or Msr.FsBase or Msr.GsBase or Msr.KernelGsBase)
            && !Cpu.IsCanonical(v))
            throw CpuFaultException.Gp(0, $"WRMSR of a non-canonical address to {Msr.Name(index)}");
        if (!c.WriteMsr(index, v)) throw CpuFaultException.Gp(0, $"WRMSR to unmodelled {Msr.Name(index)}");
        c.ControlChanged();
    }

    private void LoadTableRegister(Cpu c, Op op)
    {
        RequireRing0(c, op.I.Mnemonic.ToString().ToUpperInvariant());
        ulong lin = c.Linear(op.A);
        ushort limit = (ushort)c.Read(lin, 2);
        ulong b = c.Mode == CpuMode.Long64 ? c.Read(lin + 2, 8) : c.Read(lin + 2, 4);
        var t = new DescriptorTable(b, limit);
        if (op.Mnemonic == Mnemonic.Lgdt) c.Gdtr = t; else c.Idtr = t;
    }

    private void StoreTableRegister(Cpu c, Op op)
    {
        var t = op.Mnemonic == Mnemonic.Sgdt ? c.Gdtr : c.Idtr;
        ulong lin = c.Linear(op.A);
        c.Write(lin, 2, t.Limit);
        if (c.Mode == CpuMode.Long64) c.Write(lin + 2, 8, t.Base); else c.Write(lin + 2, 4, (uint)t.Base);
    }

    private void Ltr(Cpu c, Op op)
    {
        RequireRing0(c, "LTR");
        ushort sel = (ushort)c.ReadOp(op.A);
        if ((sel & ~3) == 0) throw CpuFaultException.Gp(0, "LTR with a null selector");
        if ((sel & 4) != 0) throw CpuFaultException.Gp((uint)(sel & ~3), "LTR selector points into the LDT");
        ulong lo = c.ReadDescriptor(sel);
        var d = Cpu.ParseDescriptor(sel, lo);
        if (d.S || d.Type is not (0x9 or 0x1)) throw CpuFaultException.Gp((uint)(sel & ~3), $"LTR selector 0x{sel:x} is not an available TSS");
        if (!d.Present) throw CpuFaultException.Np((uint)(sel & ~3), $"LTR selector 0x{sel:x} is not present");
        if ((c.Efer & Msr.EferLma) != 0)
        {
            ulong hi = c.ReadSys(c.Gdtr.Base + (ulong)(sel & ~7) + 8, 8);
            d.Base |= (hi & 0xFFFF_FFFF) << 32;
        }
        c.Tr = d;
        // Mark the descriptor busy.
        ulong at = c.Gdtr.Base + (ulong)(sel & ~7) + 5;
        c.WriteSys(at, 1, c.ReadSys(at, 1) | 2);
        c.Tr.Type |= 2;
    }

    private void MovToCr(Cpu c, Op op)
    {
        RequireRing0(c, "MOV to CR");
        ulong v = c.R[(int)(op.I.Op1Register.GetFullRegister() - Register.RAX)];
        switch (op.I.Op0Register)
        {
            case Register.CR0:
                c.Cr0 = v | ControlBits.Cr0Pe; // leaving protected mode is not modelled
                bool paging = (v & ControlBits.Cr0Pg) != 0;
                ulong efer = c.Efer & ~Msr.EferLma;
                if (paging && (c.Efer & Msr.EferLme) != 0) efer |= Msr.EferLma;
                c.Efer = efer;
                break;
            case Register.CR2: c.Cr2 = v; break;
            case Register.CR3: c.Cr3 = v; break;
            case Register.CR4: c.Cr4 = v; break;
            default: throw CpuFaultException.NotModelled($"MOV to {op.I.Op0Register}");
        }
        c.ControlChanged();
    }

    private void MovFromCr(Cpu c, Op op)
    {
        RequireRing0(c, "MOV from CR");
        ulong v = op.I.Op1Register switch
        {
            Register.CR0 => c.Cr0,
            Register.CR2 => c.Cr2,
            Register.CR3 => c.Cr3,
            Register.CR4 => c.Cr4,
            _ => throw CpuFaultException.NotModelled($"MOV from {op.I.Op1Register}"),
        };
        c.R[(int)(op.I.Op0Register.GetFullRegister() - Register.RAX)] = c.Mode == CpuMode.Long64 ? v : (uint)v;
    }

    private void MovToSreg(Cpu c, Op op)
    {
        var seg = (SegReg)(op.I.Op0Register - Register.ES);
        if (seg == SegReg.CS) throw CpuFaultException.Ud("MOV to CS");
        c.LoadDataSegment(seg, (ushort)c.ReadOp(op.B));
        // MOV SS blocks interrupts and debug traps for one instruction so that MOV SS; MOV ESP is atomic.
        if (seg == SegReg.SS) c.Shadow = Cpu.ShadowMovSs;
        c.BreakBlock = true;
    }

    /// <summary>
    /// LSS/LDS/LES/LFS/LGS r, m16:16/32/64: the offset, then the selector after it; the segment register is loaded with
    /// every check before the general register is written (a faulting load leaves both unchanged).
    /// </summary>
    private void LoadFarPointer(Cpu c, Op op)
    {
        int size = op.A.Size;
        ulong at = c.Linear(op.B);
        ulong offset = c.Read(at, size);
        ushort sel = (ushort)c.Read(at + (ulong)size, 2);
        var seg = op.Mnemonic switch
        {
            Mnemonic.Lss => SegReg.SS,
            Mnemonic.Lds => SegReg.DS,
            Mnemonic.Les => SegReg.ES,
            Mnemonic.Lfs => SegReg.FS,
            _ => SegReg.GS,
        };
        c.LoadDataSegment(seg, sel);
        c.WriteOp(op.A, offset);
        c.BreakBlock = true;
    }

    private void MovFromSreg(Cpu c, Op op)
    {
        ushort sel = c.GetSegment((SegReg)(op.I.Op1Register - Register.ES)).Selector;
        // To a register the selector is zero-extended; to memory only 16 bits are written.
        if (op.A.Kind == OperandKind.Mem) c.Write(c.Linear(op.A), 2, sel);
        else c.WriteOp(op.A, sel);
    }

    private void Io(Cpu c, Op op)
    {
        // No I/O permission bitmap is modelled: ring 3 above IOPL faults as on hardware; anything else is a gap.
        if (c.Cpl > RFlags.Iopl(c.FlagsRest)) throw CpuFaultException.Gp(0, $"{op.I.Mnemonic.ToString().ToUpperInvariant()} at CPL {c.Cpl} > IOPL");
        throw CpuFaultException.NotModelled("port I/O");
    }
}
