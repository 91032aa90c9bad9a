using Iced.Intel;
using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu.Semantics;

/// <summary>What every SSE family does at bind time: which CPUID feature gates the encoding, and whether its 128-bit memory operand must be aligned.</summary>
internal static class SimdBind
{
    /// <summary>
    /// Marks <paramref name="op"/> with its feature (SSE or SSE2, from Iced's table of the encoding) and its alignment rule, and
    /// returns <paramref name="run"/>; null for an encoding of any other feature (SSE3 and later stay "not modelled").
    /// </summary>
    public static Exec? Mark(Op op, int sub, Exec run, bool unaligned = false)
    {
        bool sse = false, sse2 = false;
        foreach (var f in op.I.Code.CpuidFeatures())
        {
            if (f == CpuidFeature.SSE) sse = true;
            else if (f == CpuidFeature.SSE2) sse2 = true;
            else if (f is not CpuidFeature.X64) return null;
        }
        if (!sse && !sse2) return null;
        op.Sub = sub | (sse2 ? Cpu.SubSse2 : 0);
        bool m128 = (op.A.Kind == OperandKind.Mem && op.A.Size == 16) || (op.B.Kind == OperandKind.Mem && op.B.Size == 16);
        if (m128 && !unaligned) op.Sub |= Cpu.SubAligned;
        return run;
    }

    /// <summary>The immediate byte of an SSE instruction (the generic binder does not size immediates against a 16-byte destination).</summary>
    public static int Imm8(Op op) => op.I.Immediate8;
}
