using System.Runtime.Intrinsics;
using Iced.Intel;
using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu.Semantics;

/// <summary>
/// SSE/SSE2 data movement (SDM Vol. 2): MOVD MOVQ MOVDQA MOVDQU MOVAPS MOVUPS MOVAPD MOVUPD MOVNTDQ MOVNTPS MOVNTPD
/// MOVNTI MOVLPS MOVHPS MOVLPD MOVHPD MOVHLPS MOVLHPS MOVSS MOVSD MOVMSKPS MOVMSKPD PMOVMSKB PEXTRW PINSRW.
/// Legacy encodings with XMM operands only; the MMX and VEX forms stay "not modelled".
/// </summary>
internal sealed class SseMove
{
    public static readonly SseMove Instance = new();

    private const int Low = 0, High = 1;

    public Exec? Bind(Op op)
    {
        switch (op.I.Code)
        {
            case Code.Movdqa_xmm_xmmm128 or Code.Movdqa_xmmm128_xmm or Code.Movaps_xmm_xmmm128 or Code.Movaps_xmmm128_xmm
                or Code.Movapd_xmm_xmmm128 or Code.Movapd_xmmm128_xmm or Code.Movntdq_m128_xmm or Code.Movntps_m128_xmm
                or Code.Movntpd_m128_xmm:
                return SimdBind.Mark(op, 0, Move128);
            case Code.Movdqu_xmm_xmmm128 or Code.Movdqu_xmmm128_xmm or Code.Movups_xmm_xmmm128 or Code.Movups_xmmm128_xmm
                or Code.Movupd_xmm_xmmm128 or Code.Movupd_xmmm128_xmm:
                return SimdBind.Mark(op, 0, Move128, unaligned: true);
            case Code.Movd_xmm_rm32 or Code.Movq_xmm_rm64 or Code.Movq_xmm_xmmm64:
                return SimdBind.Mark(op, 0, LoadZeroExtended);
            case Code.Movd_rm32_xmm or Code.Movq_rm64_xmm:
                return SimdBind.Mark(op, 0, StoreLow);
            case Code.Movq_xmmm64_xmm:
                return SimdBind.Mark(op, 0, op.A.Kind == OperandKind.Xmm ? LoadZeroExtended : StoreLow);
            case Code.Movss_xmm_xmmm32 or Code.Movsd_xmm_xmmm64:
                return SimdBind.Mark(op, 0, op.B.Kind == OperandKind.Xmm ? MergeLow : LoadZeroExtended);
            case Code.Movss_xmmm32_xmm or Code.Movsd_xmmm64_xmm:
                return SimdBind.Mark(op, 0, op.A.Kind == OperandKind.Xmm ? MergeLow : StoreLow);
            case Code.Movlps_xmm_m64 or Code.Movlpd_xmm_m64: return SimdBind.Mark(op, Low, LoadHalf);
            case Code.Movhps_xmm_m64 or Code.Movhpd_xmm_m64: return SimdBind.Mark(op, High, LoadHalf);
            case Code.Movlps_m64_xmm or Code.Movlpd_m64_xmm: return SimdBind.Mark(op, Low, StoreHalf);
            case Code.Movhps_m64_xmm or Code.Movhpd_m64_xmm: return SimdBind.Mark(op, High, StoreHalf);
            case Code.Movhlps_xmm_xmm: return SimdBind.Mark(op, 0, Movhlps);
            case Code.Movlhps_xmm_xmm: return SimdBind.Mark(op, 0, Movlhps);
            case Code.Movnti_m32_r32 or Code.Movnti_m64_r64: return SimdBind.Mark(op, 0, Movnti);
            case Code.Movmskps_r32_xmm or Code.Movmskps_r64_xmm: return SimdBind.Mark(op, 0, Movmskps);
            case Code.Movmskpd_r32_xmm or Code.Movmskpd_r64_xmm: return SimdBind.Mark(op, 0, Movmskpd);
            case Code.Pmovmskb_r32_xmm or Code.Pmovmskb_r64_xmm: return SimdBind.Mark(op, 0, Pmovmskb);
            case Code.Pextrw_r32_xmm_imm8 or Code.Pextrw_r64_xmm_imm8: return SimdBind.Mark(op, SimdBind.Imm8(op) & 7, Pextrw);
            case Code.Pinsrw_xmm_r32m16_imm8 or Code.Pinsrw_xmm_r64m16_imm8: return SimdBind.Mark(op, SimdBind.Imm8(op) & 7, Pinsrw);
            default: return null;
        }
    }

    private void Move128(Cpu c, Op op)
    {
        c.SimdCheck(op);
        c.WriteX(op, op.A, c.ReadX(op, op.B));
    }

    /// <summary>MOVD/MOVQ xmm, r/m; MOVQ xmm, xmm/m64; MOVSS/MOVSD xmm, m: the source's low bytes, the rest of the register zeroed.</summary>
    private void LoadZeroExtended(Cpu c, Op op)
    {
        c.SimdCheck(op);
        int size = op.B.Kind == OperandKind.Xmm ? op.I.Code is Code.Movss_xmm_xmmm32 ? 4 : 8 : op.B.Size;
        ulong v = op.B.Kind == OperandKind.Xmm ? c.Xmm[op.B.Reg].AsUInt64().GetElement(0) : c.ReadOp(op.B);
        if (size == 4) v = (uint)v;
        c.Xmm[op.A.Reg] = Vector128.Create(v, 0UL).AsByte();
    }

    /// <summary>MOVD/MOVQ r/m, xmm; MOVQ m64, xmm; MOVSS/MOVSD m, xmm: the register's low 4 or 8 bytes (a 32-bit GPR write zero-extends).</summary>
    private void StoreLow(Cpu c, Op op)
    {
        c.SimdCheck(op);
        c.WriteOp(op.A, c.Xmm[op.B.Reg].AsUInt64().GetElement(0));
    }

    /// <summary>MOVSS/MOVSD between registers: only the low element moves; the destination keeps the rest.</summary>
    private void MergeLow(Cpu c, Op op)
    {
        c.SimdCheck(op);
        var d = c.Xmm[op.A.Reg];
        var s = c.Xmm[op.B.Reg];
        c.Xmm[op.A.Reg] = op.I.Code is Code.Movss_xmm_xmmm32 or Code.Movss_xmmm32_xmm
            ? d.AsUInt32().WithElement(0, s.AsUInt32().GetElement(0)).AsByte()
            : d.AsUInt64().WithElement(0, s.AsUInt64().GetElement(0)).AsByte();
    }

    private void LoadHalf(Cpu c, Op op)
    {
        c.SimdCheck(op);
        ulong v = c.ReadOp(op.B);
        c.Xmm[op.A.Reg] = c.Xmm[op.A.Reg].AsUInt64().WithElement(op.Sub & 1, v).AsByte();
    }

    private void StoreHalf(Cpu c, Op op)
    {
        c.SimdCheck(op);
        c.WriteOp(op.A, c.Xmm[op.B.Reg].AsUInt64().GetElement(op.Sub & 1));
    }

    private void Movhlps(Cpu c, Op op)
    {
        c.SimdCheck(op);
        c.Xmm[op.A.Reg] = c.Xmm[op.A.Reg].AsUInt64().WithElement(0, c.Xmm[op.B.Reg].AsUInt64().GetElement(1)).AsByte();
    }

    private void Movlhps(Cpu c, Op op)
    {
        c.SimdCheck(op);
        c.Xmm[op.A.Reg] = c.Xmm[op.A.Reg].AsUInt64().WithElement(1, c.Xmm[op.B.Reg].AsUInt64().GetElement(0)).AsByte();
    }

    /// <summary>MOVNTI stores a general register: it is an SSE2 instruction but does not depend on CR0.EM, CR0.TS or CR4.OSFXSR (SDM Vol. 2B MOVNTI, "Protected Mode Exceptions").</summary>
    private void Movnti(Cpu c, Op op)
    {
        if ((c.Profile.Leaf1Edx & CpuProfile.Leaf1EdxSse2) == 0) throw CpuFaultException.Ud($"MOVNTI: CPUID.01H:EDX.SSE2 is 0 on {c.Profile.Name}");
        c.WriteOp(op.A, c.ReadOp(op.B));
    }

    private void Movmskps(Cpu c, Op op)
    {
        c.SimdCheck(op);
        c.WriteReg(op.A.Reg, op.A.Size, c.Xmm[op.B.Reg].AsUInt32().ExtractMostSignificantBits());
    }

    private void Movmskpd(Cpu c, Op op)
    {
        c.SimdCheck(op);
        c.WriteReg(op.A.Reg, op.A.Size, c.Xmm[op.B.Reg].AsUInt64().ExtractMostSignificantBits());
    }

    private void Pmovmskb(Cpu c, Op op)
    {
        c.SimdCheck(op);
        c.WriteReg(op.A.Reg, op.A.Size, c.Xmm[op.B.Reg].ExtractMostSignificantBits());
    }

    private void Pextrw(Cpu c, Op op)
    {
        c.SimdCheck(op);
        c.WriteReg(op.A.Reg, op.A.Size, c.Xmm[op.B.Reg].AsUInt16().GetElement(op.Sub & 7));
    }

    private void Pinsrw(Cpu c, Op op)
    {
        c.SimdCheck(op);
        ushort v = (ushort)c.ReadOp(op.B);
        c.Xmm[op.A.Reg] = c.Xmm[op.A.Reg].AsUInt16().WithElement(op.Sub & 7, v).AsByte();
    }
}
