using System.Runtime.Intrinsics;
using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu;

/// <summary>
/// SSE and x87 state: XMM0-15, MXCSR, and the x87 control/status/tag words with the eight stack registers (held
/// as raw 80-bit images: the model moves them — FNINIT, FXSAVE, FXRSTOR — but does no x87 arithmetic). The reset
/// values are the ones FNINIT and the power-up state give (SDM Vol. 1 §8.1.10, Table 10-1 for MXCSR).
/// </summary>
public sealed partial class Cpu
{
    internal readonly Vector128<byte>[] Xmm = new Vector128<byte>[16];

    /// <summary>MXCSR after reset: all exceptions masked, round to nearest.</summary>
    public const uint MxcsrDefault = 0x1F80;

    /// <summary>
    /// The MXCSR bits software may set (the MXCSR_MASK FXSAVE stores): 0xFFFF on every processor with DAZ, which
    /// includes both profiles (SDM Vol. 1 §11.6.6). Setting a bit outside it is #GP(0).
    /// </summary>
    public const uint MxcsrMask = 0xFFFF;

    public uint Mxcsr { get; set; } = MxcsrDefault;

    /// <summary>x87 FPU control word (FNINIT value 0x037F: all exceptions masked, 64-bit precision, round to nearest).</summary>
    public ushort Fcw { get; set; } = 0x037F;
    /// <summary>x87 FPU status word (TOP in bits 13:11).</summary>
    public ushort Fsw { get; set; }
    /// <summary>The abridged tag word FXSAVE stores: bit i set when physical register i is valid (0 = all empty).</summary>
    public byte Ftw { get; set; }
    internal ushort Fop;
    internal ulong Fip, Fdp;
    internal ushort Fcs, Fds;
    /// <summary>The eight physical x87 registers as 80-bit images, 10 bytes each.</summary>
    internal readonly byte[] Fpr = new byte[80];

    public UInt128 GetXmm(int n)
    {
        var q = Xmm[n].AsUInt64();
        return new UInt128(q.GetElement(1), q.GetElement(0));
    }

    public void SetXmm(int n, UInt128 value) => Xmm[n] = Vector128.Create((ulong)value, (ulong)(value >> 64)).AsByte();

    /// <summary>Bits of <see cref="Op.Sub"/> the SIMD families set at bind time (the low 16 bits are the sub-operation).</summary>
    internal const int SubSse2 = 1 << 16, SubAligned = 1 << 17;

    /// <summary>
    /// The checks every legacy SSE instruction makes before touching an operand, in the order of each instruction's
    /// "Protected Mode Exceptions" table (SDM Vol. 2): #UD if CR0.EM, #UD if CR4.OSFXSR is clear, #UD if CPUID does not
    /// report the feature (SSE or SSE2, chosen at bind time from Iced's CPUID feature of the encoding), then #NM if CR0.TS.
    /// </summary>
    internal void SimdCheck(Op op)
    {
        if ((Cr0 & ControlBits.Cr0Em) != 0) throw CpuFaultException.Ud($"{Name(op)} with CR0.EM set");
        if ((Cr4 & ControlBits.Cr4Osfxsr) == 0) throw CpuFaultException.Ud($"{Name(op)} with CR4.OSFXSR clear (the OS has not enabled SSE)");
        bool sse2 = (op.Sub & SubSse2) != 0;
        if ((Profile.Leaf1Edx & (sse2 ? CpuProfile.Leaf1EdxSse2 : CpuProfile.Leaf1EdxSse)) == 0)
            throw CpuFaultException.Ud($"{Name(op)}: CPUID.01H:EDX.{(sse2 ? "SSE2" : "SSE")} is 0 on {Profile.Name}");
        if ((Cr0 & ControlBits.Cr0Ts) != 0) throw CpuFaultException.Nm($"{Name(op)} with CR0.TS set");
    }

    /// <summary>An instruction's mnemonic as messages name it.</summary>
    internal static string Name(Op op) => op.I.Mnemonic.ToString().ToUpperInvariant();

    /// <summary>x87 instructions: #NM if CR0.EM or CR0.TS (SDM Vol. 3A §2.5, "Device Not Available").</summary>
    internal void X87Check(Op op)
    {
        if ((Cr0 & (ControlBits.Cr0Em | ControlBits.Cr0Ts)) != 0) throw CpuFaultException.Nm($"{Name(op)} with CR0.EM or CR0.TS set");
    }

    /// <summary>
    /// The linear address of a SIMD memory operand: legacy SSE 128-bit operands must be 16-byte aligned except for the
    /// explicitly unaligned moves (MOVDQU MOVUPS MOVUPD), else #GP(0) (SDM Vol. 1 §11.4.1 and each instruction's
    /// exception table: "If a memory operand is not aligned on a 16-byte boundary, regardless of segment").
    /// </summary>
    internal ulong SimdLinear(Op op, in Operand o)
    {
        ulong linear = Linear(o);
        if ((op.Sub & SubAligned) != 0 && (linear & 15) != 0)
            throw CpuFaultException.Gp(0, $"{Name(op)}: 16-byte memory operand at 0x{linear:x} is not aligned");
        return linear;
    }

    internal Vector128<byte> Read128(ulong linear)
    {
        ulong lo = Read(linear, 8);
        ulong hi = Read(Wrap(linear + 8), 8);
        return Vector128.Create(lo, hi).AsByte();
    }

    internal void Write128(ulong linear, Vector128<byte> v)
    {
        // Both halves are checked before either is stored: a fault leaves memory unchanged.
        ProbeWrite(linear, 16, Cpl == 3);
        var q = v.AsUInt64();
        Write(linear, 8, q.GetElement(0));
        Write(Wrap(linear + 8), 8, q.GetElement(1));
    }

    /// <summary>An XMM register or a 128-bit memory operand.</summary>
    internal Vector128<byte> ReadX(Op op, in Operand o) => o.Kind == OperandKind.Xmm ? Xmm[o.Reg] : Read128(SimdLinear(op, o));

    internal void WriteX(Op op, in Operand o, Vector128<byte> v)
    {
        if (o.Kind == OperandKind.Xmm) Xmm[o.Reg] = v;
        else Write128(SimdLinear(op, o), v);
    }

    /// <summary>FNINIT's state (SDM Vol. 1 Table 8-10): FCW 0x037F, FSW 0, every tag empty, pointers and opcode 0.</summary>
    internal void ResetX87()
    {
        Fcw = 0x037F; Fsw = 0; Ftw = 0; Fop = 0; Fip = 0; Fdp = 0; Fcs = 0; Fds = 0;
    }
}
