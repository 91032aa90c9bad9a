using System.Numerics;
using System.Runtime.Intrinsics;
using Iced.Intel;
using SyscallTools.Core.Cpu.Decoding;

using static SyscallTools.Core.Cpu.Semantics.SseScalar;

namespace SyscallTools.Core.Cpu.Semantics;

/// <summary>
/// Scalar SSE/SSE2 floating-point arithmetic and conversions (SDM Vol. 2): ADDSS/SD SUBSS/SD MULSS/SD DIVSS/SD
/// SQRTSS/SD, CVTSI2SD, CVTSI2SS (r/m32), CVTSS2SD, CVTSD2SS, CVTTSS2SI, CVTTSD2SI. Results are the IEEE 754
/// round-to-nearest ones (.NET's double arithmetic; single-precision results are computed in double and rounded once
/// more, which is exact for these operations), NaNs follow the SSE rules (the first operand's NaN wins, quieted; an
/// invalid operation gives the negative QNaN indefinite), and the MXCSR flags come from an exact comparison of the
/// rounded result with the true one. Only the default environment is modelled: a rounding mode other than nearest,
/// FTZ or DAZ taking effect, or an unmasked exception is "not modelled".
/// </summary>
internal sealed class SseArith
{
    public static readonly SseArith Instance = new();

    private enum K { Add, Sub, Mul, Div, Sqrt }
    private const int Single = 0x100;
    private const double MinNormalDouble = 2.2250738585072014E-308, MinNormalSingle = 1.1754943508222875E-38;

    public Exec? Bind(Op op) => op.I.Code switch
    {
        Code.Addsd_xmm_xmmm64 => SimdBind.Mark(op, (int)K.Add, Arith),
        Code.Subsd_xmm_xmmm64 => SimdBind.Mark(op, (int)K.Sub, Arith),
        Code.Mulsd_xmm_xmmm64 => SimdBind.Mark(op, (int)K.Mul, Arith),
        Code.Divsd_xmm_xmmm64 => SimdBind.Mark(op, (int)K.Div, Arith),
        Code.Sqrtsd_xmm_xmmm64 => SimdBind.Mark(op, (int)K.Sqrt, Arith),
        Code.Addss_xmm_xmmm32 => SimdBind.Mark(op, Single | (int)K.Add, Arith),
        Code.Subss_xmm_xmmm32 => SimdBind.Mark(op, Single | (int)K.Sub, Arith),
        Code.Mulss_xmm_xmmm32 => SimdBind.Mark(op, Single | (int)K.Mul, Arith),
        Code.Divss_xmm_xmmm32 => SimdBind.Mark(op, Single | (int)K.Div, Arith),
        Code.Sqrtss_xmm_xmmm32 => SimdBind.Mark(op, Single | (int)K.Sqrt, Arith),
        Code.Cvtsi2sd_xmm_rm32 or Code.Cvtsi2sd_xmm_rm64 => SimdBind.Mark(op, 0, IntToFloat),
        Code.Cvtsi2ss_xmm_rm32 => SimdBind.Mark(op, Single, IntToFloat),
        Code.Cvtss2sd_xmm_xmmm32 => SimdBind.Mark(op, 0, Widen),
        Code.Cvtsd2ss_xmm_xmmm64 => SimdBind.Mark(op, Single, Narrow),
        Code.Cvttsd2si_r32_xmmm64 or Code.Cvttsd2si_r64_xmmm64 => SimdBind.Mark(op, 0, Truncate),
        Code.Cvttss2si_r32_xmmm32 or Code.Cvttss2si_r64_xmmm32 => SimdBind.Mark(op, Single, Truncate),
        _ => null,
    };


    private static ulong Quiet(ulong bits, bool single) => bits | (single ? 1UL << 22 : 1UL << 51);

    private static ulong Indefinite(bool single) => single ? 0xFFC0_0000UL : 0xFFF8_0000_0000_0000UL;

    /// <summary>Checks the environment, records the flags (unmasked ones are not modelled) and writes the low element.</summary>
    private static void Commit(Cpu c, Op op, uint flags, ulong bits, bool single)
    {
        uint mx = c.Mxcsr;
        if (((mx >> 13) & 3) != 0) throw CpuFaultException.NotModelled($"{Cpu.Name(op)} with MXCSR.RC = {(mx >> 13) & 3} (only round-to-nearest is modelled)");
        if ((mx & Ftz) != 0 && (flags & Ue) != 0) throw CpuFaultException.NotModelled($"{Cpu.Name(op)} flushing an underflow to zero (MXCSR.FTZ)");
        if ((flags & ~(mx >> 7) & 0x3F) != 0) throw CpuFaultException.NotModelled($"{Cpu.Name(op)} raising an unmasked SIMD floating-point exception (MXCSR 0x{mx:x})");
        c.Mxcsr = mx | flags;
        var d = c.Xmm[op.A.Reg];
        c.Xmm[op.A.Reg] = single ? d.AsUInt32().WithElement(0, (uint)bits).AsByte() : d.AsUInt64().WithElement(0, bits).AsByte();
    }

    /// <summary>A denormal source under MXCSR.DAZ is not modelled. Two operands at most, no allocation: it runs on every instruction.</summary>
    private static void NoDaz(Cpu c, Op op, bool single, ulong a, ulong? b = null)
    {
        if ((c.Mxcsr & Daz) != 0 && (IsDenormal(a, single) || (b is ulong v && IsDenormal(v, single))))
            throw CpuFaultException.NotModelled($"{Cpu.Name(op)} with a denormal operand under MXCSR.DAZ");
    }

    private void Arith(Cpu c, Op op)
    {
        c.SimdCheck(op);
        bool single = (op.Sub & Single) != 0;
        var k = (K)(op.Sub & 0xFF);
        ulong bb = Source(c, op, single);
        ulong ab = c.Xmm[op.A.Reg].AsUInt64().GetElement(0);
        if (single) ab = (uint)ab;
        NoDaz(c, op, (op.Sub & Single) != 0, ab, bb);
        double a = Value(ab, single), b = Value(bb, single);
        bool unary = k == K.Sqrt;
        uint flags = 0;
        ulong result;
        bool aNan = !unary && double.IsNaN(a), bNan = double.IsNaN(b);
        if (aNan || bNan)
        {
            if ((!unary && IsSnan(ab, single)) || IsSnan(bb, single)) flags |= Ie;
            result = aNan ? Quiet(ab, single) : Quiet(bb, single);
            Commit(c, op, flags, result, single);
            return;
        }
        if ((!unary && IsDenormal(ab, single)) || IsDenormal(bb, single)) flags |= De;
        bool invalid = k switch
        {
            K.Add => double.IsInfinity(a) && double.IsInfinity(b) && (a > 0) != (b > 0),
            K.Sub => double.IsInfinity(a) && double.IsInfinity(b) && (a > 0) == (b > 0),
            K.Mul => (a == 0 && double.IsInfinity(b)) || (double.IsInfinity(a) && b == 0),
            K.Div => (a == 0 && b == 0) || (double.IsInfinity(a) && double.IsInfinity(b)),
            _ => b < 0,
        };
        if (invalid)
        {
            Commit(c, op, (flags & ~De) | Ie, Indefinite(single), single);   // the invalid operation takes precedence over DE
            return;
        }
        if (k == K.Div && b == 0 && !double.IsInfinity(a)) flags = (flags & ~De) | Ze;   // as the host CPU reports it: ZE without DE
        double r = k switch { K.Add => a + b, K.Sub => a - b, K.Mul => a * b, K.Div => a / b, _ => Math.Sqrt(b) };
        if (single) r = (float)r;
        bool finiteOperands = (unary || !double.IsInfinity(a)) && !double.IsInfinity(b);
        if (double.IsInfinity(r) && finiteOperands && (flags & Ze) == 0) flags |= Oe | Pe;
        else if (finiteOperands && (flags & Ze) == 0)
        {
            int cmp = ExactMinusResult(k, a, b, r);     // sign of (true result - rounded result)
            if (cmp != 0) flags |= Pe;
            double minNormal = single ? MinNormalSingle : MinNormalDouble;
            // Tininess before rounding: the true result is below the smallest normal (a result rounded up to it is tiny too).
            bool tiny = Math.Abs(r) < minNormal || (Math.Abs(r) == minNormal && cmp != 0 && (cmp < 0) == (r > 0));
            if (tiny && cmp != 0) flags |= Ue;
        }
        result = single ? BitConverter.SingleToUInt32Bits((float)r) : BitConverter.DoubleToUInt64Bits(r);
        Commit(c, op, flags, result, single);
    }

    /// <summary>d = m · 2^e exactly, m signed.</summary>
    private static (BigInteger M, int E) Exact(double d)
    {
        if (d == 0) return (BigInteger.Zero, 0);
        long bits = BitConverter.DoubleToInt64Bits(d);
        int exp = (int)((bits >> 52) & 0x7FF);
        long mant = bits & ((1L << 52) - 1);
        if (exp == 0) exp = 1; else mant |= 1L << 52;
        var m = new BigInteger(mant);
        return (d < 0 ? -m : m, exp - 1075);
    }

    /// <summary>sign(m1·2^e1 − m2·2^e2).</summary>
    private static int Diff(BigInteger m1, int e1, BigInteger m2, int e2)
    {
        int e = Math.Min(e1, e2);
        return (m1 * BigInteger.Pow(2, e1 - e) - m2 * BigInteger.Pow(2, e2 - e)).Sign;
    }

    /// <summary>The sign of (exact result − <paramref name="r"/>), for finite operands and result.</summary>
    private static int ExactMinusResult(K k, double a, double b, double r)
    {
        var (ma, ea) = Exact(a);
        var (mb, eb) = Exact(b);
        var (mr, er) = Exact(r);
        switch (k)
        {
            case K.Add:
            case K.Sub:
            {
                if (k == K.Sub) mb = -mb;
                int e = Math.Min(ea, eb);
                var sum = ma * BigInteger.Pow(2, ea - e) + mb * BigInteger.Pow(2, eb - e);
                return Diff(sum, e, mr, er);
            }
            case K.Mul: return Diff(ma * mb, ea + eb, mr, er);
            case K.Div: return Diff(ma, ea, mr * mb, er + eb) * mb.Sign;                     // a/b − r = (a − r·b)/b
            default: return Diff(mb, eb, mr * mr, 2 * er);                                  // √b − r has the sign of b − r²
        }
    }

    private void IntToFloat(Cpu c, Op op)
    {
        c.SimdCheck(op);
        bool single = (op.Sub & Single) != 0;
        long v = op.B.Size == 8 ? (long)c.ReadOp(op.B) : (int)c.ReadOp(op.B);
        double r = single ? (double)(float)(double)v : (double)v;   // an int32 is exact in double, so the single is rounded once
        uint flags = Diff(new BigInteger(v), 0, Exact(r).M, Exact(r).E) != 0 ? Pe : 0;
        Commit(c, op, flags, single ? BitConverter.SingleToUInt32Bits((float)r) : BitConverter.DoubleToUInt64Bits(r), single);
    }

    /// <summary>CVTSS2SD: exact; an SNaN is quieted with IE, a denormal sets DE.</summary>
    private void Widen(Cpu c, Op op)
    {
        c.SimdCheck(op);
        ulong s = Source(c, op, single: true);
        NoDaz(c, op, single: true, s);
        float f = BitConverter.UInt32BitsToSingle((uint)s);
        uint flags = IsSnan(s, true) ? Ie : float.IsSubnormal(f) ? De : 0;
        ulong r = float.IsNaN(f)
            ? ((s & 0x8000_0000UL) << 32) | (0x7FFUL << 52) | (1UL << 51) | ((s & 0x3F_FFFFUL) << 29)
            : BitConverter.DoubleToUInt64Bits(f);
        Commit(c, op, flags, r, single: false);
    }

    /// <summary>CVTSD2SS: rounds to single; NaN payloads are truncated and quieted.</summary>
    private void Narrow(Cpu c, Op op)
    {
        c.SimdCheck(op);
        ulong s = Source(c, op, single: false);
        NoDaz(c, op, single: false, s);
        double d = BitConverter.UInt64BitsToDouble(s);
        uint flags = 0;
        ulong r;
        if (double.IsNaN(d))
        {
            if (IsSnan(s, false)) flags |= Ie;
            r = ((s >> 32) & 0x8000_0000UL) | 0x7FC0_0000UL | ((s >> 29) & 0x3F_FFFFUL);
        }
        else
        {
            if (double.IsSubnormal(d)) flags |= De;
            float f = (float)d;
            if (float.IsInfinity(f) && !double.IsInfinity(d)) flags |= Oe | Pe;
            else if (!double.IsInfinity(d))
            {
                int cmp = Diff(Exact(d).M, Exact(d).E, Exact(f).M, Exact(f).E);
                if (cmp != 0) flags |= Pe;
                bool tiny = Math.Abs(f) < (float)MinNormalSingle || (Math.Abs(f) == (float)MinNormalSingle && cmp != 0 && (cmp < 0) == (f > 0));
                if (tiny && cmp != 0) flags |= Ue;
            }
            r = BitConverter.SingleToUInt32Bits(f);
        }
        Commit(c, op, flags, r, single: true);
    }

    /// <summary>CVTTSD2SI/CVTTSS2SI: truncation toward zero; a NaN or an out-of-range value gives the integer indefinite with IE.</summary>
    private void Truncate(Cpu c, Op op)
    {
        c.SimdCheck(op);
        bool single = (op.Sub & Single) != 0;
        ulong s = Source(c, op, single);
        NoDaz(c, op, single, s);
        double d = Value(s, single);
        int bits = op.A.Size * 8;
        double t = Math.Truncate(d);
        bool invalid = double.IsNaN(d) || t >= Math.Pow(2, bits - 1) || t < -Math.Pow(2, bits - 1);
        uint flags = invalid ? Ie : t != d ? Pe : 0;
        uint mx = c.Mxcsr;
        if ((flags & ~(mx >> 7) & 0x3F) != 0) throw CpuFaultException.NotModelled($"{Cpu.Name(op)} raising an unmasked SIMD floating-point exception (MXCSR 0x{mx:x})");
        c.Mxcsr = mx | flags;
        ulong v = invalid ? 1UL << (bits - 1) : (ulong)(long)t;
        c.WriteReg(op.A.Reg, op.A.Size, v);
    }
}
