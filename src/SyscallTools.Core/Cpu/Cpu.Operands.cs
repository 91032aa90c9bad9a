using System.Runtime.CompilerServices;
using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu;

public sealed partial class Cpu
{
    /// <summary>Effective address → linear address, with the segment base and the mode's canonical/wrap rules.</summary>
    internal ulong Linear(in Operand o)
    {
        ulong ea = o.Value;
        if (o.Base != Operand.NoReg) ea += R[o.Base];
        if (o.Index != Operand.NoReg) ea += R[o.Index] << o.Scale;
        if (o.AddrBytes == 4) ea = (uint)ea; else if (o.AddrBytes == 2) ea = (ushort)ea;
        return SegmentLinear(o.Seg, ea);
    }

    /// <summary>Adds the segment base to an offset. In 64-bit mode only FS and GS have a base, and the result must be canonical.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong SegmentLinear(int seg, ulong offset)
    {
        if (Mode == CpuMode.Long64)
        {
            ulong lin = seg >= (int)SegReg.FS ? offset + Seg[seg].Base : offset;
            return IsCanonical(lin) ? lin : throw NonCanonical(seg, lin);
        }
        ref var s = ref Seg[seg];
        return s.Unusable ? throw UnusableSegment(seg) : (uint)(s.Base + offset);
    }

    // The faults are built out of line: their messages would otherwise give every caller of the hot path a string builder's frame.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static CpuFaultException NonCanonical(int seg, ulong lin) => seg == (int)SegReg.SS
        ? CpuFaultException.Ss(0, $"stack address 0x{lin:x} is not canonical")
        : CpuFaultException.Gp(0, $"address 0x{lin:x} is not canonical");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static CpuFaultException UnusableSegment(int seg) => seg == (int)SegReg.SS
        ? CpuFaultException.Ss(0, "stack segment is unusable (null selector)")
        : CpuFaultException.Gp(0, $"{(SegReg)seg} holds a null selector");

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong ReadOp(in Operand o)
    {
        switch (o.Kind)
        {
            case OperandKind.Reg:
                ulong v = R[o.Reg];
                return o.Size switch { 4 => (uint)v, 8 => v, 2 => (ushort)v, _ => (byte)v };
            case OperandKind.Imm:
                return o.Value;
            case OperandKind.RegHigh8:
                return (byte)(R[o.Reg] >> 8);
            default:
                return Read(Linear(o), o.Size);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void WriteOp(in Operand o, ulong value)
    {
        switch (o.Kind)
        {
            case OperandKind.Reg:
                WriteReg(o.Reg, o.Size, value);
                return;
            case OperandKind.RegHigh8:
                R[o.Reg] = (R[o.Reg] & ~0xFF00UL) | ((value & 0xFF) << 8);
                return;
            default:
                Write(Linear(o), o.Size, value);
                return;
        }
    }

    /// <summary>Register write with the x86-64 rule: 32-bit writes zero-extend, 8/16-bit writes merge.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void WriteReg(int reg, int size, ulong value)
    {
        switch (size)
        {
            case 4: R[reg] = (uint)value; break;
            case 8: R[reg] = value; break;
            case 2: R[reg] = (R[reg] & ~0xFFFFUL) | (ushort)value; break;
            default: R[reg] = (R[reg] & ~0xFFUL) | (byte)value; break;
        }
    }

    /// <summary>Reads a memory operand's destination and returns its linear address, so read-modify-write faults once, before any change.</summary>
    internal ulong ReadForUpdate(in Operand o, out ulong linear)
    {
        if (o.Kind != OperandKind.Mem) { linear = 0; return ReadOp(o); }
        linear = Linear(o);
        ProbeWrite(linear, o.Size, Cpl == 3);
        return Read(linear, o.Size);
    }

    internal void WriteBack(in Operand o, ulong linear, ulong value)
    {
        if (o.Kind != OperandKind.Mem) WriteOp(o, value);
        else Write(linear, o.Size, value);
    }
}
