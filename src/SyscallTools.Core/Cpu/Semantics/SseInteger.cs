using System.Runtime.Intrinsics;
using Iced.Intel;
using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu.Semantics;

/// <summary>
/// SSE/SSE2 bitwise logic and integer SIMD arithmetic on XMM registers (SDM Vol. 2): PAND PANDN POR PXOR ANDPS ANDPD
/// ANDNPS ANDNPD ORPS ORPD XORPS XORPD; PADDB/W/D/Q PSUBB/W/D/Q, the saturating PADDS/PADDUS/PSUBS/PSUBUS B/W;
/// PCMPEQB/W/D PCMPGTB/W/D; PMINUB PMAXUB PMINSW PMAXSW PAVGB PAVGW; PSLLW/D/Q PSRLW/D/Q PSRAW/D by XMM/m128 or
/// imm8. Each computes dst = op(dst, src) on packed elements with wrap-around unless the name says saturate.
/// </summary>
internal sealed class SseInteger
{
    public static readonly SseInteger Instance = new();

    private enum K
    {
        And, AndNot, Or, Xor,
        AddB, AddW, AddD, AddQ, SubB, SubW, SubD, SubQ,
        AddSB, AddSW, AddUSB, AddUSW, SubSB, SubSW, SubUSB, SubUSW,
        EqB, EqW, EqD, GtB, GtW, GtD,
        MinUB, MaxUB, MinSW, MaxSW, AvgB, AvgW,
        SllW, SllD, SllQ, SrlW, SrlD, SrlQ, SraW, SraD,
    }

    public Exec? Bind(Op op)
    {
        K? k = op.I.Code switch
        {
            Code.Pand_xmm_xmmm128 or Code.Andps_xmm_xmmm128 or Code.Andpd_xmm_xmmm128 => K.And,
            Code.Pandn_xmm_xmmm128 or Code.Andnps_xmm_xmmm128 or Code.Andnpd_xmm_xmmm128 => K.AndNot,
            Code.Por_xmm_xmmm128 or Code.Orps_xmm_xmmm128 or Code.Orpd_xmm_xmmm128 => K.Or,
            Code.Pxor_xmm_xmmm128 or Code.Xorps_xmm_xmmm128 or Code.Xorpd_xmm_xmmm128 => K.Xor,
            Code.Paddb_xmm_xmmm128 => K.AddB, Code.Paddw_xmm_xmmm128 => K.AddW,
            Code.Paddd_xmm_xmmm128 => K.AddD, Code.Paddq_xmm_xmmm128 => K.AddQ,
            Code.Psubb_xmm_xmmm128 => K.SubB, Code.Psubw_xmm_xmmm128 => K.SubW,
            Code.Psubd_xmm_xmmm128 => K.SubD, Code.Psubq_xmm_xmmm128 => K.SubQ,
            Code.Paddsb_xmm_xmmm128 => K.AddSB, Code.Paddsw_xmm_xmmm128 => K.AddSW,
            Code.Paddusb_xmm_xmmm128 => K.AddUSB, Code.Paddusw_xmm_xmmm128 => K.AddUSW,
            Code.Psubsb_xmm_xmmm128 => K.SubSB, Code.Psubsw_xmm_xmmm128 => K.SubSW,
            Code.Psubusb_xmm_xmmm128 => K.SubUSB, Code.Psubusw_xmm_xmmm128 => K.SubUSW,
            Code.Pcmpeqb_xmm_xmmm128 => K.EqB, Code.Pcmpeqw_xmm_xmmm128 => K.EqW, Code.Pcmpeqd_xmm_xmmm128 => K.EqD,
            Code.Pcmpgtb_xmm_xmmm128 => K.GtB, Code.Pcmpgtw_xmm_xmmm128 => K.GtW, Code.Pcmpgtd_xmm_xmmm128 => K.GtD,
            Code.Pminub_xmm_xmmm128 => K.MinUB, Code.Pmaxub_xmm_xmmm128 => K.MaxUB,
            Code.Pminsw_xmm_xmmm128 => K.MinSW, Code.Pmaxsw_xmm_xmmm128 => K.MaxSW,
            Code.Pavgb_xmm_xmmm128 => K.AvgB, Code.Pavgw_xmm_xmmm128 => K.AvgW,
            Code.Psllw_xmm_xmmm128 or Code.Psllw_xmm_imm8 => K.SllW, Code.Pslld_xmm_xmmm128 or Code.Pslld_xmm_imm8 => K.SllD,
            Code.Psllq_xmm_xmmm128 or Code.Psllq_xmm_imm8 => K.SllQ, Code.Psrlw_xmm_xmmm128 or Code.Psrlw_xmm_imm8 => K.SrlW,
            Code.Psrld_xmm_xmmm128 or Code.Psrld_xmm_imm8 => K.SrlD, Code.Psrlq_xmm_xmmm128 or Code.Psrlq_xmm_imm8 => K.SrlQ,
            Code.Psraw_xmm_xmmm128 or Code.Psraw_xmm_imm8 => K.SraW, Code.Psrad_xmm_xmmm128 or Code.Psrad_xmm_imm8 => K.SraD,
            _ => null,
        };
        if (k is null) return null;
        if (k >= K.SllW) return SimdBind.Mark(op, (int)k, op.B.Kind == OperandKind.Imm ? ShiftImm : ShiftXmm);
        return SimdBind.Mark(op, (int)k, Binary);
    }

    private void Binary(Cpu c, Op op)
    {
        c.SimdCheck(op);
        var s = c.ReadX(op, op.B);
        var d = c.Xmm[op.A.Reg];
        c.Xmm[op.A.Reg] = Compute((K)(op.Sub & 0xFFFF), d, s);
    }

    private static Vector128<byte> Compute(K k, Vector128<byte> d, Vector128<byte> s) => k switch
    {
        K.And => d & s,
        K.AndNot => Vector128.AndNot(s, d),            // (NOT dst) AND src
        K.Or => d | s,
        K.Xor => d ^ s,
        K.AddB => d + s,
        K.AddW => (d.AsUInt16() + s.AsUInt16()).AsByte(),
        K.AddD => (d.AsUInt32() + s.AsUInt32()).AsByte(),
        K.AddQ => (d.AsUInt64() + s.AsUInt64()).AsByte(),
        K.SubB => d - s,
        K.SubW => (d.AsUInt16() - s.AsUInt16()).AsByte(),
        K.SubD => (d.AsUInt32() - s.AsUInt32()).AsByte(),
        K.SubQ => (d.AsUInt64() - s.AsUInt64()).AsByte(),
        K.AddSB => Bytes(d, s, (a, b) => (byte)Math.Clamp((sbyte)a + (sbyte)b, sbyte.MinValue, sbyte.MaxValue)),
        K.SubSB => Bytes(d, s, (a, b) => (byte)Math.Clamp((sbyte)a - (sbyte)b, sbyte.MinValue, sbyte.MaxValue)),
        K.AddUSB => Bytes(d, s, (a, b) => (byte)Math.Min(a + b, 255)),
        K.SubUSB => Bytes(d, s, (a, b) => (byte)Math.Max(a - b, 0)),
        K.AddSW => Words(d, s, (a, b) => (ushort)Math.Clamp((short)a + (short)b, short.MinValue, short.MaxValue)),
        K.SubSW => Words(d, s, (a, b) => (ushort)Math.Clamp((short)a - (short)b, short.MinValue, short.MaxValue)),
        K.AddUSW => Words(d, s, (a, b) => (ushort)Math.Min(a + b, 65535)),
        K.SubUSW => Words(d, s, (a, b) => (ushort)Math.Max(a - b, 0)),
        K.EqB => Vector128.Equals(d, s),
        K.EqW => Vector128.Equals(d.AsUInt16(), s.AsUInt16()).AsByte(),
        K.EqD => Vector128.Equals(d.AsUInt32(), s.AsUInt32()).AsByte(),
        K.GtB => Vector128.GreaterThan(d.AsSByte(), s.AsSByte()).AsByte(),
        K.GtW => Vector128.GreaterThan(d.AsInt16(), s.AsInt16()).AsByte(),
        K.GtD => Vector128.GreaterThan(d.AsInt32(), s.AsInt32()).AsByte(),
        K.MinUB => Vector128.Min(d, s),
        K.MaxUB => Vector128.Max(d, s),
        K.MinSW => Vector128.Min(d.AsInt16(), s.AsInt16()).AsByte(),
        K.MaxSW => Vector128.Max(d.AsInt16(), s.AsInt16()).AsByte(),
        K.AvgB => Bytes(d, s, (a, b) => (byte)((a + b + 1) >> 1)),
        K.AvgW => Words(d, s, (a, b) => (ushort)((a + b + 1) >> 1)),
        _ => throw new InvalidOperationException(k.ToString()),
    };

    private static Vector128<byte> Bytes(Vector128<byte> d, Vector128<byte> s, Func<int, int, byte> f)
    {
        Span<byte> r = stackalloc byte[16];
        for (int i = 0; i < 16; i++) r[i] = f(d.GetElement(i), s.GetElement(i));
        return Vector128.Create((ReadOnlySpan<byte>)r);
    }

    private static Vector128<byte> Words(Vector128<byte> d, Vector128<byte> s, Func<int, int, ushort> f)
    {
        var dw = d.AsUInt16();
        var sw = s.AsUInt16();
        Span<ushort> r = stackalloc ushort[8];
        for (int i = 0; i < 8; i++) r[i] = f(dw.GetElement(i), sw.GetElement(i));
        return Vector128.Create((ReadOnlySpan<ushort>)r).AsByte();
    }

    /// <summary>The count is the whole low quadword of the source (SDM: "the count ... is not masked").</summary>
    private void ShiftXmm(Cpu c, Op op)
    {
        c.SimdCheck(op);
        ulong count = c.ReadX(op, op.B).AsUInt64().GetElement(0);
        c.Xmm[op.A.Reg] = Shift((K)(op.Sub & 0xFFFF), c.Xmm[op.A.Reg], count);
    }

    private void ShiftImm(Cpu c, Op op)
    {
        c.SimdCheck(op);
        c.Xmm[op.A.Reg] = Shift((K)(op.Sub & 0xFFFF), c.Xmm[op.A.Reg], op.I.Immediate8);
    }

    /// <summary>A count beyond the element width clears the element (logical shifts) or fills it with the sign (arithmetic).</summary>
    private static Vector128<byte> Shift(K k, Vector128<byte> d, ulong count)
    {
        int bits = k is K.SllW or K.SrlW or K.SraW ? 16 : k is K.SllD or K.SrlD or K.SraD ? 32 : 64;
        if (count >= (ulong)bits)
        {
            if (k is K.SraW) return Vector128.ShiftRightArithmetic(d.AsInt16(), 15).AsByte();
            if (k is K.SraD) return Vector128.ShiftRightArithmetic(d.AsInt32(), 31).AsByte();
            return Vector128<byte>.Zero;
        }
        int n = (int)count;
        return k switch
        {
            K.SllW => Vector128.ShiftLeft(d.AsUInt16(), n).AsByte(),
            K.SllD => Vector128.ShiftLeft(d.AsUInt32(), n).AsByte(),
            K.SllQ => Vector128.ShiftLeft(d.AsUInt64(), n).AsByte(),
            K.SrlW => Vector128.ShiftRightLogical(d.AsUInt16(), n).AsByte(),
            K.SrlD => Vector128.ShiftRightLogical(d.AsUInt32(), n).AsByte(),
            K.SrlQ => Vector128.ShiftRightLogical(d.AsUInt64(), n).AsByte(),
            K.SraW => Vector128.ShiftRightArithmetic(d.AsInt16(), n).AsByte(),
            _ => Vector128.ShiftRightArithmetic(d.AsInt32(), n).AsByte(),
        };
    }
}
