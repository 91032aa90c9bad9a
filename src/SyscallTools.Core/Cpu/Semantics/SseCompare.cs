using System.Runtime.Intrinsics;
using Iced.Intel;
using SyscallTools.Core.Cpu.Decoding;

using static SyscallTools.Core.Cpu.Semantics.SseScalar;

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
        bool single = !dbl;
        ulong a = c.Xmm[op.A.Reg].AsUInt64().GetElement(0);
        ulong b = Source(c, op, single);
        double x = Value(a, single), y = Value(b, single);
        bool xNan = IsNan(a, single), yNan = IsNan(b, single), xDen = IsDenormal(a, single), yDen = IsDenormal(b, single);
        uint mx = c.Mxcsr;
        bool daz = (mx & Daz) != 0;
        uint flags = 0;
        if (IsSnan(a, single) || IsSnan(b, single) || ((op.Sub & Signalling) != 0 && (xNan || yNan))) flags |= Ie;
        else if (!daz && (xDen || yDen) && !xNan && !yNan) flags |= De;
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
}
