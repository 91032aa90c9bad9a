using System.Runtime.Intrinsics;
using Iced.Intel;
using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu.Semantics;

/// <summary>
/// SSE/SSE2 element rearrangement (SDM Vol. 2): PUNPCKL/H BW WD DQ QDQ, UNPCKL/H PS PD, PSHUFD PSHUFLW PSHUFHW,
/// SHUFPS SHUFPD, PACKSSWB PACKSSDW PACKUSWB, PSLLDQ PSRLDQ.
/// </summary>
internal sealed class SseShuffle
{
    public static readonly SseShuffle Instance = new();

    public Exec? Bind(Op op)
    {
        int imm = op.I.OpCount > 0 && op.I.GetOpKind(op.I.OpCount - 1) == OpKind.Immediate8 ? op.I.Immediate8 : 0;
        switch (op.I.Code)
        {
            // Unpack: sub = element size in bytes, +0x100 for the high halves.
            case Code.Punpcklbw_xmm_xmmm128: return SimdBind.Mark(op, 1, Unpack);
            case Code.Punpcklwd_xmm_xmmm128: return SimdBind.Mark(op, 2, Unpack);
            case Code.Punpckldq_xmm_xmmm128 or Code.Unpcklps_xmm_xmmm128: return SimdBind.Mark(op, 4, Unpack);
            case Code.Punpcklqdq_xmm_xmmm128 or Code.Unpcklpd_xmm_xmmm128: return SimdBind.Mark(op, 8, Unpack);
            case Code.Punpckhbw_xmm_xmmm128: return SimdBind.Mark(op, 0x101, Unpack);
            case Code.Punpckhwd_xmm_xmmm128: return SimdBind.Mark(op, 0x102, Unpack);
            case Code.Punpckhdq_xmm_xmmm128 or Code.Unpckhps_xmm_xmmm128: return SimdBind.Mark(op, 0x104, Unpack);
            case Code.Punpckhqdq_xmm_xmmm128 or Code.Unpckhpd_xmm_xmmm128: return SimdBind.Mark(op, 0x108, Unpack);
            case Code.Pshufd_xmm_xmmm128_imm8: return SimdBind.Mark(op, imm, Pshufd);
            case Code.Pshuflw_xmm_xmmm128_imm8: return SimdBind.Mark(op, imm, Pshuflw);
            case Code.Pshufhw_xmm_xmmm128_imm8: return SimdBind.Mark(op, imm, Pshufhw);
            case Code.Shufps_xmm_xmmm128_imm8: return SimdBind.Mark(op, imm, Shufps);
            case Code.Shufpd_xmm_xmmm128_imm8: return SimdBind.Mark(op, imm, Shufpd);
            case Code.Packsswb_xmm_xmmm128: return SimdBind.Mark(op, 0, Packsswb);
            case Code.Packuswb_xmm_xmmm128: return SimdBind.Mark(op, 0, Packuswb);
            case Code.Packssdw_xmm_xmmm128: return SimdBind.Mark(op, 0, Packssdw);
            case Code.Pslldq_xmm_imm8: return SimdBind.Mark(op, imm, Pslldq);
            case Code.Psrldq_xmm_imm8: return SimdBind.Mark(op, imm, Psrldq);
            default: return null;
        }
    }

    private static int Imm(Op op) => op.Sub & 0xFF;

    /// <summary>Interleaves the low (or high) halves' elements: dst[0], src[0], dst[1], src[1], ...</summary>
    private void Unpack(Cpu c, Op op)
    {
        c.SimdCheck(op);
        var s = c.ReadX(op, op.B);
        var d = c.Xmm[op.A.Reg];
        int e = op.Sub & 0xFF, from = (op.Sub & 0x100) != 0 ? 8 : 0;
        Span<byte> r = stackalloc byte[16];
        for (int i = 0; i < 8 / e; i++)
            for (int b = 0; b < e; b++)
            {
                r[2 * i * e + b] = d.GetElement(from + i * e + b);
                r[(2 * i + 1) * e + b] = s.GetElement(from + i * e + b);
            }
        c.Xmm[op.A.Reg] = Vector128.Create((ReadOnlySpan<byte>)r);
    }

    private void Pshufd(Cpu c, Op op)
    {
        c.SimdCheck(op);
        var s = c.ReadX(op, op.B).AsUInt32();
        int m = Imm(op);
        c.Xmm[op.A.Reg] = Vector128.Create(s.GetElement(m & 3), s.GetElement((m >> 2) & 3), s.GetElement((m >> 4) & 3), s.GetElement((m >> 6) & 3)).AsByte();
    }

    private void Pshuflw(Cpu c, Op op)
    {
        c.SimdCheck(op);
        var s = c.ReadX(op, op.B).AsUInt16();
        int m = Imm(op);
        var r = s;
        for (int i = 0; i < 4; i++) r = r.WithElement(i, s.GetElement((m >> (2 * i)) & 3));
        c.Xmm[op.A.Reg] = r.AsByte();
    }

    private void Pshufhw(Cpu c, Op op)
    {
        c.SimdCheck(op);
        var s = c.ReadX(op, op.B).AsUInt16();
        int m = Imm(op);
        var r = s;
        for (int i = 0; i < 4; i++) r = r.WithElement(4 + i, s.GetElement(4 + ((m >> (2 * i)) & 3)));
        c.Xmm[op.A.Reg] = r.AsByte();
    }

    /// <summary>The two low dwords from the destination, the two high ones from the source, each picked by two bits of imm8.</summary>
    private void Shufps(Cpu c, Op op)
    {
        c.SimdCheck(op);
        var s = c.ReadX(op, op.B).AsUInt32();
        var d = c.Xmm[op.A.Reg].AsUInt32();
        int m = Imm(op);
        c.Xmm[op.A.Reg] = Vector128.Create(d.GetElement(m & 3), d.GetElement((m >> 2) & 3), s.GetElement((m >> 4) & 3), s.GetElement((m >> 6) & 3)).AsByte();
    }

    private void Shufpd(Cpu c, Op op)
    {
        c.SimdCheck(op);
        var s = c.ReadX(op, op.B).AsUInt64();
        var d = c.Xmm[op.A.Reg].AsUInt64();
        int m = Imm(op);
        c.Xmm[op.A.Reg] = Vector128.Create(d.GetElement(m & 1), s.GetElement((m >> 1) & 1)).AsByte();
    }

    /// <summary>Signed words to signed bytes with saturation: destination's words fill the low half, the source's the high.</summary>
    private void Packsswb(Cpu c, Op op)
    {
        c.SimdCheck(op);
        var s = c.ReadX(op, op.B).AsInt16();
        var d = c.Xmm[op.A.Reg].AsInt16();
        Span<byte> r = stackalloc byte[16];
        for (int i = 0; i < 8; i++)
        {
            r[i] = (byte)(sbyte)Math.Clamp((int)d.GetElement(i), sbyte.MinValue, sbyte.MaxValue);
            r[8 + i] = (byte)(sbyte)Math.Clamp((int)s.GetElement(i), sbyte.MinValue, sbyte.MaxValue);
        }
        c.Xmm[op.A.Reg] = Vector128.Create((ReadOnlySpan<byte>)r);
    }

    /// <summary>Signed words to unsigned bytes with saturation.</summary>
    private void Packuswb(Cpu c, Op op)
    {
        c.SimdCheck(op);
        var s = c.ReadX(op, op.B).AsInt16();
        var d = c.Xmm[op.A.Reg].AsInt16();
        Span<byte> r = stackalloc byte[16];
        for (int i = 0; i < 8; i++)
        {
            r[i] = (byte)Math.Clamp((int)d.GetElement(i), 0, 255);
            r[8 + i] = (byte)Math.Clamp((int)s.GetElement(i), 0, 255);
        }
        c.Xmm[op.A.Reg] = Vector128.Create((ReadOnlySpan<byte>)r);
    }

    /// <summary>Signed dwords to signed words with saturation.</summary>
    private void Packssdw(Cpu c, Op op)
    {
        c.SimdCheck(op);
        var s = c.ReadX(op, op.B).AsInt32();
        var d = c.Xmm[op.A.Reg].AsInt32();
        Span<short> r = stackalloc short[8];
        for (int i = 0; i < 4; i++)
        {
            r[i] = (short)Math.Clamp(d.GetElement(i), short.MinValue, short.MaxValue);
            r[4 + i] = (short)Math.Clamp(s.GetElement(i), short.MinValue, short.MaxValue);
        }
        c.Xmm[op.A.Reg] = Vector128.Create((ReadOnlySpan<short>)r).AsByte();
    }

    /// <summary>Whole-register byte shifts; a count above 15 clears the register.</summary>
    private void Pslldq(Cpu c, Op op)
    {
        c.SimdCheck(op);
        int n = Imm(op);
        var d = c.Xmm[op.A.Reg];
        Span<byte> r = stackalloc byte[16];
        for (int i = n; i < 16; i++) r[i] = d.GetElement(i - n);
        c.Xmm[op.A.Reg] = Vector128.Create((ReadOnlySpan<byte>)r);
    }

    private void Psrldq(Cpu c, Op op)
    {
        c.SimdCheck(op);
        int n = Imm(op);
        var d = c.Xmm[op.A.Reg];
        Span<byte> r = stackalloc byte[16];
        for (int i = 0; i + n < 16; i++) r[i] = d.GetElement(i + n);
        c.Xmm[op.A.Reg] = Vector128.Create((ReadOnlySpan<byte>)r);
    }
}
