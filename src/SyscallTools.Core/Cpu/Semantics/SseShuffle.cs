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
            case Code.Pshuflw_xmm_xmmm128_imm8: return SimdBind.Mark(op, imm, PshufHalf);
            case Code.Pshufhw_xmm_xmmm128_imm8: return SimdBind.Mark(op, High | imm, PshufHalf);
            case Code.Shufps_xmm_xmmm128_imm8: return SimdBind.Mark(op, imm, Shufps);
            case Code.Shufpd_xmm_xmmm128_imm8: return SimdBind.Mark(op, imm, Shufpd);
            case Code.Packsswb_xmm_xmmm128: return SimdBind.Mark(op, PackSswb, Pack);
            case Code.Packuswb_xmm_xmmm128: return SimdBind.Mark(op, PackUswb, Pack);
            case Code.Packssdw_xmm_xmmm128: return SimdBind.Mark(op, PackSsdw, Pack);
            case Code.Pslldq_xmm_imm8: return SimdBind.Mark(op, imm, ByteShift);
            case Code.Psrldq_xmm_imm8: return SimdBind.Mark(op, High | imm, ByteShift);
            default: return null;
        }
    }

    private static int Imm(Op op) => op.Sub & 0xFF;

    /// <summary>In Sub beside the imm8 (below SimdBind's own bits): PSHUFHW (not PSHUFLW), PSRLDQ (not PSLLDQ).</summary>
    private const int High = 0x100;
    private const int PackSswb = 0, PackUswb = 1, PackSsdw = 2;

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

    /// <summary>PSHUFLW / PSHUFHW: the four words of one half picked by two bits of imm8 each; the other half copied.</summary>
    private void PshufHalf(Cpu c, Op op)
    {
        c.SimdCheck(op);
        var s = c.ReadX(op, op.B).AsUInt16();
        int m = Imm(op), half = (op.Sub & High) != 0 ? 4 : 0;
        var r = s;
        for (int i = 0; i < 4; i++) r = r.WithElement(half + i, s.GetElement(half + ((m >> (2 * i)) & 3)));
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

    /// <summary>
    /// PACKSSWB / PACKUSWB (signed words to signed or unsigned bytes) and PACKSSDW (signed dwords to signed words), with
    /// saturation: the destination's elements fill the low half, the source's the high half.
    /// </summary>
    private void Pack(Cpu c, Op op)
    {
        c.SimdCheck(op);
        var s = c.ReadX(op, op.B);
        var d = c.Xmm[op.A.Reg];
        int kind = Imm(op);   // Sub's low byte: SimdBind keeps its feature and alignment bits above it
        bool dwords = kind == PackSsdw;
        int n = dwords ? 4 : 8;
        (int lo, int hi) = kind switch { PackSswb => ((int)sbyte.MinValue, (int)sbyte.MaxValue), PackUswb => (0, (int)byte.MaxValue), _ => ((int)short.MinValue, (int)short.MaxValue) };
        int In(Vector128<byte> v, int i) => dwords ? v.AsInt32().GetElement(i) : v.AsInt16().GetElement(i);
        Span<byte> r = stackalloc byte[16];
        for (int i = 0; i < n; i++)
        {
            int a = Math.Clamp(In(d, i), lo, hi), b = Math.Clamp(In(s, i), lo, hi);
            if (dwords)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteInt16LittleEndian(r[(2 * i)..], (short)a);
                System.Buffers.Binary.BinaryPrimitives.WriteInt16LittleEndian(r[(8 + 2 * i)..], (short)b);
            }
            else
            {
                r[i] = (byte)a;
                r[8 + i] = (byte)b;
            }
        }
        c.Xmm[op.A.Reg] = Vector128.Create((ReadOnlySpan<byte>)r);
    }

    /// <summary>PSLLDQ / PSRLDQ: whole-register byte shifts; a count above 15 clears the register.</summary>
    private void ByteShift(Cpu c, Op op)
    {
        c.SimdCheck(op);
        int n = Imm(op);
        bool right = (op.Sub & High) != 0;
        var d = c.Xmm[op.A.Reg];
        Span<byte> r = stackalloc byte[16];
        for (int i = 0; i < 16; i++)
        {
            int from = right ? i + n : i - n;
            if ((uint)from < 16) r[i] = d.GetElement(from);
        }
        c.Xmm[op.A.Reg] = Vector128.Create((ReadOnlySpan<byte>)r);
    }
}
