using System.Runtime.CompilerServices;

namespace SyscallTools.Core.Cpu;

/// <summary>
/// The status flags as functions of the last flag-writing operation's record (operation, width, operands, result,
/// carry-in). One definition for both executors: the interpreter calls these with the record it keeps in the
/// <see cref="Cpu"/>, the block compiler with the record it keeps in locals (constant operation and width, so the JIT
/// folds the switches away).
/// </summary>
internal static class LazyFlags
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool CF(LazyOp op, int bytes, ulong a, ulong b, ulong res, bool carry)
    {
        ulong m = Cpu.SizeMask(bytes);
        return op switch
        {
            LazyOp.Add => (res & m) < (a & m),
            LazyOp.Adc => carry ? (res & m) <= (a & m) : (res & m) < (a & m),
            LazyOp.Sub => (a & m) < (b & m),
            LazyOp.Sbb => carry ? (a & m) <= (b & m) : (a & m) < (b & m),
            LazyOp.Logic => false,
            LazyOp.Inc or LazyOp.Dec => carry,
            LazyOp.Neg => (b & m) != 0,
            _ => false,
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool OF(LazyOp op, int bytes, ulong a, ulong b, ulong res)
    {
        ulong s = Cpu.SignBit(bytes);
        return op switch
        {
            LazyOp.Add or LazyOp.Adc => ((a ^ res) & (b ^ res) & s) != 0,
            LazyOp.Sub or LazyOp.Sbb => ((a ^ b) & (a ^ res) & s) != 0,
            LazyOp.Logic => false,
            LazyOp.Inc => (res & Cpu.SizeMask(bytes)) == s,
            LazyOp.Dec => (res & Cpu.SizeMask(bytes)) == s - 1,
            LazyOp.Neg => (res & Cpu.SizeMask(bytes)) == s,
            _ => false,
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool ZF(int bytes, ulong res) => (res & Cpu.SizeMask(bytes)) == 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool SF(int bytes, ulong res) => (res & Cpu.SignBit(bytes)) != 0;

    /// <summary>A condition code (Iced's order less one: o, no, b, ae, e, ne, be, a, s, ns, p, np, l, ge, le, g) over a lazy record.</summary>
    public static bool Condition(int cc, LazyOp op, int bytes, ulong a, ulong b, ulong res, bool carry)
    {
        bool r = (cc >> 1) switch
        {
            0 => OF(op, bytes, a, b, res),
            1 => CF(op, bytes, a, b, res, carry),
            2 => ZF(bytes, res),
            3 => CF(op, bytes, a, b, res, carry) || ZF(bytes, res),
            4 => SF(bytes, res),
            5 => Cpu.Parity(res),
            6 => SF(bytes, res) != OF(op, bytes, a, b, res),
            _ => ZF(bytes, res) || SF(bytes, res) != OF(op, bytes, a, b, res),
        };
        return (cc & 1) == 0 ? r : !r;
    }

    /// <summary>A condition code over materialised status flags.</summary>
    public static bool Condition(int cc, ulong flags)
    {
        bool of = (flags & RFlags.OF) != 0, cf = (flags & RFlags.CF) != 0, zf = (flags & RFlags.ZF) != 0, sf = (flags & RFlags.SF) != 0;
        bool r = (cc >> 1) switch
        {
            0 => of,
            1 => cf,
            2 => zf,
            3 => cf || zf,
            4 => sf,
            5 => (flags & RFlags.PF) != 0,
            6 => sf != of,
            _ => zf || sf != of,
        };
        return (cc & 1) == 0 ? r : !r;
    }
}
