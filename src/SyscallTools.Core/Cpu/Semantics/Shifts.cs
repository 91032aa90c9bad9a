using Iced.Intel;
using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu.Semantics;

/// <summary>
/// SHL SAL SHR SAR ROL ROR RCL RCR SHLD SHRD. A count of zero changes nothing (flags included). Where the
/// manual leaves a flag undefined (OF for counts above 1, AF), this model follows what current Intel and AMD
/// cores produce for OF (computed as for count 1 from the final result) and clears AF.
/// </summary>
internal sealed class Shifts
{
    /// <summary>Handlers are instance methods: delegates to them are called without the static-delegate thunk.</summary>
    public static readonly Shifts Instance = new();

    public Exec? Bind(Op op) => op.Mnemonic switch
    {
        Mnemonic.Shl or Mnemonic.Sal => Shl,
        Mnemonic.Shr => Shr,
        Mnemonic.Sar => Sar,
        Mnemonic.Rol => Rol,
        Mnemonic.Ror => Ror,
        Mnemonic.Rcl => Rcl,
        Mnemonic.Rcr => Rcr,
        Mnemonic.Shld => Shld,
        Mnemonic.Shrd => Shrd,
        _ => null,
    };

    /// <summary>
    /// A count of zero leaves value and flags alone — but a 32-bit register destination is still written, so its
    /// upper half is zeroed as for any 32-bit operation (seen on hardware; Vectors/native-64.txt).
    /// </summary>
    private void Unchanged(Cpu c, Op op)
    {
        if (op.A.Kind == OperandKind.Reg && op.A.Size == 4) c.R[op.A.Reg] = (uint)c.R[op.A.Reg];
    }

    private static int Count(Cpu c, Op op, in Operand src)
    {
        ulong n = src.Kind == OperandKind.None ? 1 : c.ReadOp(src);
        return (int)(n & (op.A.Size == 8 ? 0x3FUL : 0x1FUL));
    }

    private static void SetResultFlags(Cpu c, int size, ulong r, bool cf, bool of) => c.SetArith(ResultFlags(size, r, cf, of));

    private static ulong ResultFlags(int size, ulong r, bool cf, bool of)
    {
        ulong f = 0;
        ulong m = Cpu.SizeMask(size);
        if (cf) f |= RFlags.CF;
        if (of) f |= RFlags.OF;
        if ((r & m) == 0) f |= RFlags.ZF;
        if ((r & Cpu.SignBit(size)) != 0) f |= RFlags.SF;
        if (Cpu.Parity(r)) f |= RFlags.PF;
        return f;
    }

    private void Shl(Cpu c, Op op)
    {
        int n = Count(c, op, op.B);
        ulong a = c.ReadForUpdate(op.A, out var lin);
        if (n == 0) { Unchanged(c, op); return; }
        ulong r = ShlResult(a, n, op.A.Size, out ulong flags);
        c.WriteBack(op.A, lin, r);
        c.SetArith(flags);
    }

    private void Shr(Cpu c, Op op)
    {
        int n = Count(c, op, op.B);
        ulong a = c.ReadForUpdate(op.A, out var lin);
        if (n == 0) { Unchanged(c, op); return; }
        ulong r = ShrResult(a, n, op.A.Size, out ulong flags);
        c.WriteBack(op.A, lin, r);
        c.SetArith(flags);
    }

    private void Sar(Cpu c, Op op)
    {
        int n = Count(c, op, op.B);
        ulong a = c.ReadForUpdate(op.A, out var lin);
        if (n == 0) { Unchanged(c, op); return; }
        ulong r = SarResult(a, n, op.A.Size, out ulong flags);
        c.WriteBack(op.A, lin, r);
        c.SetArith(flags);
    }

    // The shifts' results and status flags for a count 1..63, as pure functions: the handlers here and the block
    // compiler's translation of shifts by an immediate both use them.

    internal static ulong ShlResult(ulong a, int n, int size, out ulong flags)
    {
        int bits = size * 8;
        ulong m = Cpu.SizeMask(size);
        ulong r = n >= 64 ? 0 : (a << n) & m;
        bool cf = n <= bits && ((a >> (bits - n)) & 1) != 0;
        flags = ResultFlags(size, r, cf, ((r & Cpu.SignBit(size)) != 0) != cf);
        return r;
    }

    internal static ulong ShrResult(ulong a, int n, int size, out ulong flags)
    {
        a &= Cpu.SizeMask(size);
        ulong r = n >= 64 ? 0 : a >> n;
        bool cf = ((a >> (n - 1)) & 1) != 0;
        flags = ResultFlags(size, r, cf, (a & Cpu.SignBit(size)) != 0);
        return r;
    }

    internal static ulong SarResult(ulong a, int n, int size, out ulong flags)
    {
        int bits = size * 8;
        long s = (long)(a << (64 - bits)) >> (64 - bits);
        ulong r = (ulong)(s >> Math.Min(n, 63));
        bool cf = ((s >> Math.Min(n - 1, 63)) & 1) != 0;
        flags = ResultFlags(size, r, cf, false);
        return r;
    }

    // Rotates change only CF and OF.
    private static void SetCfOf(Cpu c, bool cf, bool of)
    {
        ulong f = c.ArithFlags() & ~(RFlags.CF | RFlags.OF);
        if (cf) f |= RFlags.CF;
        if (of) f |= RFlags.OF;
        c.SetArith(f);
    }

    private void Rol(Cpu c, Op op)
    {
        int raw = Count(c, op, op.B);
        ulong a = c.ReadForUpdate(op.A, out var lin) & Cpu.SizeMask(op.A.Size);
        if (raw == 0) { Unchanged(c, op); return; }
        int bits = op.A.Size * 8;
        int n = raw % bits;
        ulong r = n == 0 ? a : ((a << n) | (a >> (bits - n))) & Cpu.SizeMask(op.A.Size);
        c.WriteBack(op.A, lin, r);
        bool cf = (r & 1) != 0;
        SetCfOf(c, cf, ((r & Cpu.SignBit(op.A.Size)) != 0) != cf);
    }

    private void Ror(Cpu c, Op op)
    {
        int raw = Count(c, op, op.B);
        ulong a = c.ReadForUpdate(op.A, out var lin) & Cpu.SizeMask(op.A.Size);
        if (raw == 0) { Unchanged(c, op); return; }
        int bits = op.A.Size * 8;
        int n = raw % bits;
        ulong r = n == 0 ? a : ((a >> n) | (a << (bits - n))) & Cpu.SizeMask(op.A.Size);
        c.WriteBack(op.A, lin, r);
        bool msb = (r & Cpu.SignBit(op.A.Size)) != 0;
        bool next = (r & (Cpu.SignBit(op.A.Size) >> 1)) != 0;
        SetCfOf(c, msb, msb != next);
    }

    private void Rcl(Cpu c, Op op)
    {
        int bits = op.A.Size * 8;
        int n = Count(c, op, op.B);
        if (bits < 32) n %= bits + 1;
        ulong a = c.ReadForUpdate(op.A, out var lin) & Cpu.SizeMask(op.A.Size);
        if (n == 0) { Unchanged(c, op); return; }
        bool cf = c.GetCF();
        ulong r = a;
        for (int k = 0; k < n; k++)
        {
            bool top = (r & Cpu.SignBit(op.A.Size)) != 0;
            r = ((r << 1) | (cf ? 1UL : 0)) & Cpu.SizeMask(op.A.Size);
            cf = top;
        }
        c.WriteBack(op.A, lin, r);
        SetCfOf(c, cf, ((r & Cpu.SignBit(op.A.Size)) != 0) != cf);
    }

    private void Rcr(Cpu c, Op op)
    {
        int bits = op.A.Size * 8;
        int n = Count(c, op, op.B);
        if (bits < 32) n %= bits + 1;
        ulong a = c.ReadForUpdate(op.A, out var lin) & Cpu.SizeMask(op.A.Size);
        if (n == 0) { Unchanged(c, op); return; }
        bool cf = c.GetCF();
        ulong r = a;
        bool of = false;
        for (int k = 0; k < n; k++)
        {
            of = ((r & Cpu.SignBit(op.A.Size)) != 0) != cf;
            bool low = (r & 1) != 0;
            r = (r >> 1) | (cf ? Cpu.SignBit(op.A.Size) : 0);
            cf = low;
        }
        c.WriteBack(op.A, lin, r);
        SetCfOf(c, cf, of);
    }

    private void Shld(Cpu c, Op op)
    {
        int n = Count(c, op, op.C);
        ulong a = c.ReadForUpdate(op.A, out var lin) & Cpu.SizeMask(op.A.Size);
        if (n == 0) { Unchanged(c, op); return; }
        int bits = op.A.Size * 8;
        if (n > bits) throw CpuFaultException.NotModelled("SHLD with a count above the operand size (undefined result)");
        ulong b = c.ReadOp(op.B) & Cpu.SizeMask(op.A.Size);
        UInt128 wide = ((UInt128)a << bits) | b;
        ulong r = (ulong)((wide << n) >> bits) & Cpu.SizeMask(op.A.Size);
        bool cf = ((a >> (bits - n)) & 1) != 0;
        c.WriteBack(op.A, lin, r);
        SetResultFlags(c, op.A.Size, r, cf, ((r ^ a) & Cpu.SignBit(op.A.Size)) != 0);
    }

    private void Shrd(Cpu c, Op op)
    {
        int n = Count(c, op, op.C);
        ulong a = c.ReadForUpdate(op.A, out var lin) & Cpu.SizeMask(op.A.Size);
        if (n == 0) { Unchanged(c, op); return; }
        int bits = op.A.Size * 8;
        if (n > bits) throw CpuFaultException.NotModelled("SHRD with a count above the operand size (undefined result)");
        ulong b = c.ReadOp(op.B) & Cpu.SizeMask(op.A.Size);
        UInt128 wide = ((UInt128)b << bits) | a;
        ulong r = (ulong)(wide >> n) & Cpu.SizeMask(op.A.Size);
        bool cf = ((a >> (n - 1)) & 1) != 0;
        c.WriteBack(op.A, lin, r);
        SetResultFlags(c, op.A.Size, r, cf, ((r ^ a) & Cpu.SignBit(op.A.Size)) != 0);
    }
}
