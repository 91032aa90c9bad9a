using System.Numerics;
using System.Runtime.CompilerServices;

namespace SyscallTools.Core.Cpu;

/// <summary>Which operation last wrote the status flags; they are computed from its operands only when read.</summary>
internal enum LazyOp : byte
{
    /// <summary>The status flags are materialised in <c>ArithValue</c>.</summary>
    None,
    Add, Adc, Sub, Sbb, Logic, Inc, Dec, Neg,
}

public sealed partial class Cpu
{
    // RFLAGS without the six status flags; those live lazily below.
    internal ulong FlagsRest = RFlags.Fixed;

    internal LazyOp LzOp;
    internal byte LzBytes = 4;
    internal ulong LzA, LzB, LzRes;
    /// <summary>Carry-in for ADC/SBB, or the preserved CF for INC/DEC.</summary>
    internal bool LzCarry;
    internal ulong ArithValue;

    /// <summary>The full RFLAGS value.</summary>
    public ulong Rflags
    {
        get => FlagsRest | ArithFlags();
        set
        {
            FlagsRest = (value & RFlags.Defined & ~RFlags.Arith) | RFlags.Fixed;
            SetArith(value);
            BreakBlock = true;
        }
    }

    /// <summary>Whether a non-status flag (TF, IF, DF, ...) is set.</summary>
    public bool Flag(ulong bit) => (FlagsRest & bit) != 0;

    internal void SetArith(ulong value)
    {
        LzOp = LazyOp.None;
        ArithValue = value & RFlags.Arith;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void SetLazy(LazyOp op, int bytes, ulong a, ulong b, ulong res)
    {
        LzOp = op;
        LzBytes = (byte)bytes;
        LzA = a;
        LzB = b;
        LzRes = res;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong SizeMask(int bytes) => bytes == 8 ? ulong.MaxValue : (1UL << (bytes * 8)) - 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong SignBit(int bytes) => 1UL << (bytes * 8 - 1);

    internal static bool Parity(ulong v) => (BitOperations.PopCount(v & 0xFF) & 1) == 0;

    /// <summary>Materialises the six status flags from the lazy record.</summary>
    internal ulong ArithFlags()
    {
        if (LzOp == LazyOp.None) return ArithValue;
        ulong f = 0;
        if (GetCF()) f |= RFlags.CF;
        ulong m = SizeMask(LzBytes), r = LzRes & m;
        if (Parity(r)) f |= RFlags.PF;
        if (((LzA ^ LzB ^ LzRes) & 0x10) != 0 && LzOp != LazyOp.Logic) f |= RFlags.AF;
        if (r == 0) f |= RFlags.ZF;
        if ((r & SignBit(LzBytes)) != 0) f |= RFlags.SF;
        if (GetOF()) f |= RFlags.OF;
        return f;
    }

    internal bool GetCF() => LzOp == LazyOp.None ? (ArithValue & RFlags.CF) != 0 : LazyFlags.CF(LzOp, LzBytes, LzA, LzB, LzRes, LzCarry);

    internal bool GetOF() => LzOp == LazyOp.None ? (ArithValue & RFlags.OF) != 0 : LazyFlags.OF(LzOp, LzBytes, LzA, LzB, LzRes);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool GetZF() => LzOp == LazyOp.None ? (ArithValue & RFlags.ZF) != 0 : (LzRes & SizeMask(LzBytes)) == 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool GetSF() => LzOp == LazyOp.None ? (ArithValue & RFlags.SF) != 0 : (LzRes & SignBit(LzBytes)) != 0;

    internal bool GetPF() => LzOp == LazyOp.None ? (ArithValue & RFlags.PF) != 0 : Parity(LzRes);

    /// <summary>Sets or clears one status flag, keeping the others.</summary>
    internal void SetArithBit(ulong bit, bool on)
    {
        ulong f = ArithFlags();
        SetArith(on ? f | bit : f & ~bit);
    }

    /// <summary>Evaluates a condition code (the low nibble of Jcc/SETcc/CMOVcc opcodes).</summary>
    internal bool Condition(int cc) =>
        LzOp == LazyOp.None ? LazyFlags.Condition(cc, ArithValue) : LazyFlags.Condition(cc, LzOp, LzBytes, LzA, LzB, LzRes, LzCarry);

    /// <summary>Sets the non-status flags; asks the interpreter to re-check TF/IF before the next instruction.</summary>
    internal void SetFlagsRest(ulong value)
    {
        FlagsRest = (value & RFlags.Defined & ~RFlags.Arith) | RFlags.Fixed;
        BreakBlock = true;
    }
}
