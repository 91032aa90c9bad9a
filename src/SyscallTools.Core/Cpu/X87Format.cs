using System.Numerics;

namespace SyscallTools.Core.Cpu;

/// <summary>A double extended-precision value as the x87 registers hold it: sign and 15-bit exponent, 64-bit significand with its explicit integer bit.</summary>
internal readonly record struct Ext(ulong Mant, ushort SignExp)
{
    public bool Negative => (SignExp & 0x8000) != 0;
    public int Exp => SignExp & 0x7FFF;
    public bool IsNaN => Exp == 0x7FFF && (Mant << 1) != 0;
    public bool IsSNaN => IsNaN && (Mant & (1UL << 62)) == 0;
    public bool IsInf => Exp == 0x7FFF && (Mant << 1) == 0 && (Mant >> 63) == 1;
    public bool IsZero => Exp == 0 && Mant == 0;
    public bool IsDenormal => Exp == 0 && Mant != 0;
    /// <summary>An encoding the 387 never produces (an exponent other than 0 without the integer bit): #IA wherever it is used.</summary>
    public bool IsUnsupported => Exp != 0 && (Mant >> 63) == 0;

    /// <summary>The QNaN floating-point indefinite: the masked response to an invalid operation (SDM Vol. 1 §4.8.3.7).</summary>
    public static Ext Indefinite => new(0xC000_0000_0000_0000, 0xFFFF);

    public Ext Quieted => new(Mant | (1UL << 62), SignExp);
}

/// <summary>
/// Conversions between the x87 register format and single, double and integer formats (SDM Vol. 1 §4.2, §4.8). Loading
/// is exact; storing to a narrower format rounds with the control word's RC and reports P U O I and whether it rounded up (C1).
/// </summary>
internal static class X87Format
{
    public const ushort FswIe = 1, FswDe = 2, FswZe = 4, FswOe = 8, FswUe = 16, FswPe = 32, FswSf = 64;

    /// <summary>A single (fracBits 23, expBits 8) or double (52, 11) to extended: exact; an SNaN is quieted with #IA, a denormal sets #D.</summary>
    public static Ext FromBinary(ulong bits, int fracBits, int expBits, out ushort flags)
    {
        flags = 0;
        int bias = (1 << (expBits - 1)) - 1, maxExp = (1 << expBits) - 1;
        ulong frac = bits & ((1UL << fracBits) - 1);
        int exp = (int)((bits >> fracBits) & (ulong)maxExp);
        ushort sign = (ushort)(((bits >> (fracBits + expBits)) & 1) << 15);
        if (exp == maxExp)
        {
            if (frac == 0) return new Ext(1UL << 63, (ushort)(sign | 0x7FFF));
            var nan = new Ext((1UL << 63) | (frac << (63 - fracBits)), (ushort)(sign | 0x7FFF));
            if (nan.IsSNaN) { flags |= FswIe; nan = nan.Quieted; }
            return nan;
        }
        if (exp == 0)
        {
            if (frac == 0) return new Ext(0, sign);
            flags |= FswDe;
            int lz = BitOperations.LeadingZeroCount(frac);
            // value = frac · 2^(1 - bias - fracBits); the normalised significand has its top bit at 63.
            int e = 1 - bias - fracBits + (63 - lz);
            return new Ext(frac << lz, (ushort)(sign | (e + 16383)));
        }
        return new Ext((1UL << 63) | (frac << (63 - fracBits)), (ushort)(sign | (exp - bias + 16383)));
    }

    public static Ext FromInt64(long v)
    {
        if (v == 0) return new Ext(0, 0);
        ushort sign = (ushort)(v < 0 ? 0x8000 : 0);
        ulong a = v < 0 ? (ulong)(-(v + 1)) + 1 : (ulong)v;
        int lz = BitOperations.LeadingZeroCount(a);
        return new Ext(a << lz, (ushort)(sign | (63 - lz + 16383)));
    }

    /// <summary>
    /// Extended to single or double with rounding control <paramref name="rc"/> (0 nearest-even, 1 down, 2 up, 3 toward zero).
    /// Flags: #IA for an SNaN or unsupported operand (the QNaN is stored), #O/#U/#P; <paramref name="roundedUp"/> is C1.
    /// Underflow is reported when the result is tiny (before rounding) and inexact, the masked-response rule.
    /// </summary>
    public static ulong ToBinary(Ext x, int fracBits, int expBits, int rc, out ushort flags, out bool roundedUp)
    {
        flags = 0;
        roundedUp = false;
        int bias = (1 << (expBits - 1)) - 1, maxExp = (1 << expBits) - 1;
        if (x.IsUnsupported) { flags |= FswIe; x = Ext.Indefinite; }
        ulong sign = x.Negative ? 1UL << (fracBits + expBits) : 0;
        ulong infBits = sign | ((ulong)maxExp << fracBits);
        if (x.Exp == 0x7FFF)
        {
            if ((x.Mant << 1) == 0) return infBits;
            if (x.IsSNaN) { flags |= FswIe; x = x.Quieted; }
            return infBits | ((x.Mant >> (63 - fracBits)) & ((1UL << fracBits) - 1));
        }
        if (x.Mant == 0) return sign;
        // value = Mant · 2^(e - 63), normalised so that bit 63 is set.
        int e = x.Exp == 0 ? -16382 : x.Exp - 16383;
        int lz = BitOperations.LeadingZeroCount(x.Mant);
        ulong mant = x.Mant << lz;
        e -= lz;
        int p = fracBits + 1, emin = 1 - bias;
        bool tiny = e < emin;
        int shift = 64 - p + (tiny ? emin - e : 0);        // bits of mant to drop
        // The dropped bits against half a unit in the last kept place: cmp < 0, = 0 or > 0.
        ulong kept;
        int cmp;
        if (shift < 64)
        {
            kept = mant >> shift;
            ulong rest = mant & ((1UL << shift) - 1), half = 1UL << (shift - 1);
            cmp = rest.CompareTo(half);
            if (rest == 0) cmp = -2;
        }
        else
        {
            kept = 0;
            cmp = shift == 64 ? mant.CompareTo(1UL << 63) : -1;
        }
        bool inexact = cmp != -2;
        bool up = rc switch
        {
            0 => cmp > 0 || (cmp == 0 && (kept & 1) == 1),
            1 => inexact && x.Negative,
            2 => inexact && !x.Negative,
            _ => false,
        };
        if (inexact) flags |= FswPe;
        roundedUp = up;
        ulong k = kept + (up ? 1UL : 0);
        if (tiny)
        {
            if (inexact) flags |= FswUe;
            // A denormal that rounds up to 2^(p-1) is the smallest normal: the encoding carries into the exponent field.
            return sign | k;
        }
        if (k == 1UL << p) { k >>= 1; e++; }
        if (e > bias)
        {
            flags |= FswOe | FswPe;
            bool toInf = rc == 0 || (rc == 1 && x.Negative) || (rc == 2 && !x.Negative);
            roundedUp = toInf;
            return toInf ? infBits : sign | ((ulong)(maxExp - 1) << fracBits) | ((1UL << fracBits) - 1);
        }
        return sign | ((ulong)(e + bias) << fracBits) | (k & ((1UL << fracBits) - 1));
    }
}
