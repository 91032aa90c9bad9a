using System.Runtime.Intrinsics;
using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu.Semantics;

/// <summary>
/// What the scalar SSE/SSE2 floating-point instructions share (SseArith, SseCompare): the MXCSR bits (SDM Vol. 1
/// §10.2.3), the low element of a source operand, and the IEEE 754 classes of raw single or double bits.
/// </summary>
internal static class SseScalar
{
    /// <summary>MXCSR exception flags (IE DE ZE OE UE PE), DAZ and FTZ; each flag's mask bit is the flag shifted left by 7.</summary>
    public const uint Ie = 1, De = 2, Ze = 4, Oe = 8, Ue = 16, Pe = 32, Daz = 1 << 6, Ftz = 1 << 15;

    /// <summary>The low element of the source operand (XMM register or m32/m64) as raw bits.</summary>
    public static ulong Source(Cpu c, Op op, bool single)
    {
        ulong v = op.B.Kind == OperandKind.Xmm ? c.Xmm[op.B.Reg].AsUInt64().GetElement(0) : c.ReadOp(op.B);
        return single ? (uint)v : v;
    }

    /// <summary>The value as a double (exact for a single).</summary>
    public static double Value(ulong bits, bool single) => single ? BitConverter.UInt32BitsToSingle((uint)bits) : BitConverter.UInt64BitsToDouble(bits);

    public static bool IsNan(ulong bits, bool single) => single
        ? float.IsNaN(BitConverter.UInt32BitsToSingle((uint)bits))
        : double.IsNaN(BitConverter.UInt64BitsToDouble(bits));

    /// <summary>A signalling NaN: a NaN with the quiet bit (the fraction's top bit) clear.</summary>
    public static bool IsSnan(ulong bits, bool single) =>
        IsNan(bits, single) && (bits & (single ? 1UL << 22 : 1UL << 51)) == 0;

    public static bool IsDenormal(ulong bits, bool single) => single
        ? float.IsSubnormal(BitConverter.UInt32BitsToSingle((uint)bits))
        : double.IsSubnormal(BitConverter.UInt64BitsToDouble(bits));
}
