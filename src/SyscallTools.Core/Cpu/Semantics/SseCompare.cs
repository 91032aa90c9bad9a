using System.Runtime.Intrinsics;
using Iced.Intel;
using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu.Semantics;

/// <summary>
/// UCOMISS UCOMISD COMISS COMISD (SDM Vol. 2A): an ordered compare of the low elements into ZF PF CF (OF AF SF cleared).
/// No rounding is involved, so the result is exact by construction; MXCSR gets IE (any SNaN; any NaN for the COMI forms)
/// and DE (a denormal operand, unless DAZ treats it as zero). An unmasked one of those is #XM (with CR4.OSXMMEXCPT, else
/// #UD) and changes nothing.
/// </summary>
internal sealed class SseCompare
{
    public static readonly SseCompare Instance = new();

    private const int Double = 1, Signalling = 2;
    private const uint MxcsrIe = 1, MxcsrDe = 2, MxcsrIm = 1 << 7, MxcsrDm = 1 << 8, MxcsrDaz = 1 << 6;

    public Exec? Bind(Op op) => op.I.Code switch
    {
        Code.Ucomiss_xmm_xmmm32 => SimdBind.Mark(op, 0, Compare),
        Code.Comiss_xmm_xmmm32 => SimdBind.Mark(op, Signalling, Compare),
        Code.Ucomisd_xmm_xmmm64 => SimdBind.Mark(op, Double, Compare),
        Code.Comisd_xmm_xmmm64 => SimdBind.Mark(op, Double | Signalling, Compare),
        _ => null,
    };

    private void Compare(Cpu c, Op op)
    {
        c.SimdCheck(op);
        bool dbl = (op.Sub & Double) != 0;
        ulong a = c.Xmm[op.A.Reg].AsUInt64().GetElement(0);
        ulong b = op.B.Kind == OperandKind.Xmm ? c.Xmm[op.B.Reg].AsUInt64().GetElement(0) : c.ReadOp(op.B);
        var (x, xNan, xSnan, xDen) = Decode(a, dbl);
        var (y, yNan, ySnan, yDen) = Decode(b, dbl);
        uint mx = c.Mxcsr;
        bool daz = (mx & MxcsrDaz) != 0;
        uint flags = 0;
        if (xSnan || ySnan || ((op.Sub & Signalling) != 0 && (xNan || yNan))) flags |= MxcsrIe;
        else if (!daz && (xDen || yDen) && !xNan && !yNan) flags |= MxcsrDe;
        // An unmasked exception faults before anything is written (SDM Vol. 1 §11.5.1).
        uint unmasked = flags & ~(mx >> 7) & 0x3F;
        if (unmasked != 0)
        {
            if ((c.Cr4 & ControlBits.Cr4Osxmmexcpt) == 0) throw CpuFaultException.Ud($"unmasked SIMD floating-point exception with CR4.OSXMMEXCPT clear");
            throw new CpuFaultException(new CpuFault { Vector = Vector.XM, Reason = $"{op.Mnemonic.ToString().ToUpperInvariant()}: unmasked SIMD floating-point exception (MXCSR 0x{mx:x})" });
        }
        c.Mxcsr = mx | flags;
        if (daz) { if (xDen) x = double.IsNegative(x) ? -0.0 : 0.0; if (yDen) y = double.IsNegative(y) ? -0.0 : 0.0; }
        ulong f = xNan || yNan ? RFlags.ZF | RFlags.PF | RFlags.CF : x > y ? 0 : x < y ? RFlags.CF : RFlags.ZF;
        c.SetArith(f);
    }

    /// <summary>The value as a double (exact for singles too), and whether it is a NaN, a signalling NaN, a denormal.</summary>
    private static (double Value, bool Nan, bool Snan, bool Denormal) Decode(ulong bits, bool dbl)
    {
        if (dbl)
        {
            double v = BitConverter.UInt64BitsToDouble(bits);
            bool nan = double.IsNaN(v);
            return (v, nan, nan && (bits & (1UL << 51)) == 0, double.IsSubnormal(v));
        }
        uint s = (uint)bits;
        float fv = BitConverter.UInt32BitsToSingle(s);
        bool fnan = float.IsNaN(fv);
        return (fv, fnan, fnan && (s & (1u << 22)) == 0, float.IsSubnormal(fv));
    }
}
