using Iced.Intel;
using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu.Semantics;

/// <summary>ADD ADC SUB SBB CMP INC DEC NEG MUL IMUL DIV IDIV XADD CMPXCHG: the integer arithmetic family.</summary>
internal sealed class Arithmetic
{
    /// <summary>Handlers are instance methods: delegates to them are called without the static-delegate thunk.</summary>
    public static readonly Arithmetic Instance = new();

    public Exec? Bind(Op op)
    {
        return op.Mnemonic switch
        {
            Mnemonic.Add => Add,
            Mnemonic.Sub => Sub,
            Mnemonic.Cmp => Cmp,
            Mnemonic.Adc => Adc,
            Mnemonic.Sbb => Sbb,
            Mnemonic.Inc => op.A.Kind == OperandKind.Reg && op.A.Size >= 4 ? IncR : Inc,
            Mnemonic.Dec => op.A.Kind == OperandKind.Reg && op.A.Size >= 4 ? DecR : Dec,
            Mnemonic.Neg => Neg,
            Mnemonic.Mul => Mul,
            Mnemonic.Imul => op.I.OpCount switch { 1 => Imul1, 2 => Imul2, _ => Imul3 },
            Mnemonic.Div => Div,
            Mnemonic.Idiv => Idiv,
            Mnemonic.Xadd => Xadd,
            Mnemonic.Cmpxchg => Cmpxchg,
            Mnemonic.Cmpxchg8b => Cmpxchg8b,
            Mnemonic.Cmpxchg16b => Cmpxchg16b,
            _ => null,
        };
    }



    // ---- INC/DEC on a register (the loop-counter case) ----
    private void IncR(Cpu c, Op op)
    {
        bool cf = c.GetCF();
        ulong a = c.R[op.A.Reg], r = a + 1;
        c.WriteReg(op.A.Reg, op.A.Size, r);
        c.SetLazy(LazyOp.Inc, op.A.Size, a, 1, r);
        c.LzCarry = cf;
    }

    private void DecR(Cpu c, Op op)
    {
        bool cf = c.GetCF();
        ulong a = c.R[op.A.Reg], r = a - 1;
        c.WriteReg(op.A.Reg, op.A.Size, r);
        c.SetLazy(LazyOp.Dec, op.A.Size, a, 1, r);
        c.LzCarry = cf;
    }

    // ---- general forms ----
    private void Add(Cpu c, Op op)
    {
        ulong a = c.ReadForUpdate(op.A, out var lin), b = c.ReadOp(op.B), r = a + b;
        c.WriteBack(op.A, lin, r);
        c.SetLazy(LazyOp.Add, op.Size, a, b, r);
    }

    private void Sub(Cpu c, Op op)
    {
        ulong a = c.ReadForUpdate(op.A, out var lin), b = c.ReadOp(op.B), r = a - b;
        c.WriteBack(op.A, lin, r);
        c.SetLazy(LazyOp.Sub, op.Size, a, b, r);
    }

    private void Cmp(Cpu c, Op op)
    {
        ulong a = c.ReadOp(op.A), b = c.ReadOp(op.B);
        c.SetLazy(LazyOp.Sub, op.Size, a, b, a - b);
    }

    private void Adc(Cpu c, Op op)
    {
        bool cf = c.GetCF();
        ulong a = c.ReadForUpdate(op.A, out var lin), b = c.ReadOp(op.B), r = a + b + (cf ? 1UL : 0);
        c.WriteBack(op.A, lin, r);
        c.SetLazy(LazyOp.Adc, op.Size, a, b, r);
        c.LzCarry = cf;
    }

    private void Sbb(Cpu c, Op op)
    {
        bool cf = c.GetCF();
        ulong a = c.ReadForUpdate(op.A, out var lin), b = c.ReadOp(op.B), r = a - b - (cf ? 1UL : 0);
        c.WriteBack(op.A, lin, r);
        c.SetLazy(LazyOp.Sbb, op.Size, a, b, r);
        c.LzCarry = cf;
    }

    private void Inc(Cpu c, Op op)
    {
        bool cf = c.GetCF();
        ulong a = c.ReadForUpdate(op.A, out var lin), r = a + 1;
        c.WriteBack(op.A, lin, r);
        c.SetLazy(LazyOp.Inc, op.Size, a, 1, r);
        c.LzCarry = cf;
    }

    private void Dec(Cpu c, Op op)
    {
        bool cf = c.GetCF();
        ulong a = c.ReadForUpdate(op.A, out var lin), r = a - 1;
        c.WriteBack(op.A, lin, r);
        c.SetLazy(LazyOp.Dec, op.Size, a, 1, r);
        c.LzCarry = cf;
    }

    private void Neg(Cpu c, Op op)
    {
        ulong a = c.ReadForUpdate(op.A, out var lin), r = 0 - a;
        c.WriteBack(op.A, lin, r);
        c.SetLazy(LazyOp.Neg, op.Size, 0, a, r);
    }

    private void Xadd(Cpu c, Op op)
    {
        ulong a = c.ReadForUpdate(op.A, out var lin), b = c.ReadOp(op.B), r = a + b;
        c.WriteBack(op.A, lin, r);
        c.WriteOp(op.B, a);
        c.SetLazy(LazyOp.Add, op.Size, a, b, r);
    }

    private void Cmpxchg(Cpu c, Op op)
    {
        // The destination is always written (with its own value on failure), as the manual says.
        ulong dst = c.ReadForUpdate(op.A, out var lin);
        ulong acc = c.R[0] & Cpu.SizeMask(op.Size);
        c.SetLazy(LazyOp.Sub, op.Size, acc, dst, acc - dst);
        if ((acc & Cpu.SizeMask(op.Size)) == (dst & Cpu.SizeMask(op.Size))) c.WriteBack(op.A, lin, c.ReadOp(op.B));
        else
        {
            // On failure a memory destination is written back unchanged (the locked cycle), but a register
            // destination is not written at all: its upper half survives (seen on hardware; Vectors/native-64.txt).
            if (op.A.Kind == OperandKind.Mem) c.WriteBack(op.A, lin, dst);
            c.WriteReg(0, op.Size, dst);
        }
    }

    private void Cmpxchg16b(Cpu c, Op op)
    {
        ulong lin = c.Linear(op.A);
        // The operand must be 16-byte aligned (#GP(0) otherwise).
        if ((lin & 0xF) != 0) throw CpuFaultException.Gp(0, "CMPXCHG16B operand is not 16-byte aligned");
        c.ProbeWrite(lin, 16, c.Cpl == 3);
        ulong lo = c.Read(lin, 8), hi = c.Read(lin + 8, 8);
        if (lo == c.R[0] && hi == c.R[2])
        {
            c.Write(lin, 8, c.R[3]);
            c.Write(lin + 8, 8, c.R[1]);
            c.SetArithBit(RFlags.ZF, true);
        }
        else
        {
            c.Write(lin, 8, lo);
            c.Write(lin + 8, 8, hi);
            c.R[0] = lo;
            c.R[2] = hi;
            c.SetArithBit(RFlags.ZF, false);
        }
    }

    private void Cmpxchg8b(Cpu c, Op op)
    {
        ulong lin = c.Linear(op.A);
        c.ProbeWrite(lin, 8, c.Cpl == 3);
        ulong m = c.Read(lin, 8);
        ulong edxeax = ((ulong)(uint)c.R[2] << 32) | (uint)c.R[0];
        if (m == edxeax)
        {
            c.Write(lin, 8, ((ulong)(uint)c.R[1] << 32) | (uint)c.R[3]);
            c.SetArithBit(RFlags.ZF, true);
        }
        else
        {
            c.Write(lin, 8, m);
            c.R[0] = (uint)m;
            c.R[2] = (uint)(m >> 32);
            c.SetArithBit(RFlags.ZF, false);
        }
    }

    // ---- multiply and divide ----

    /// <summary>MUL/IMUL leave SF, ZF, AF and PF undefined; this model sets SF/ZF/PF from the low half and clears AF.</summary>
    private static void SetMulFlags(Cpu c, int size, ulong low, bool overflow) => c.SetArith(MulFlags(size, low, overflow));

    private static ulong MulFlags(int size, ulong low, bool overflow)
    {
        ulong f = 0;
        ulong m = Cpu.SizeMask(size);
        if (overflow) f |= RFlags.CF | RFlags.OF;
        if ((low & m) == 0) f |= RFlags.ZF;
        if ((low & Cpu.SignBit(size)) != 0) f |= RFlags.SF;
        if (Cpu.Parity(low)) f |= RFlags.PF;
        return f;
    }

    private void Mul(Cpu c, Op op)
    {
        ulong src = c.ReadOp(op.A);
        int size = op.A.Size;
        ulong a = c.R[0] & Cpu.SizeMask(size);
        switch (size)
        {
            case 1:
            {
                ulong r = a * src;
                c.WriteReg(0, 2, r);
                SetMulFlags(c, 1, r, (r >> 8) != 0);
                break;
            }
            case 2:
            case 4:
            {
                ulong r = a * src;
                int bits = size * 8;
                c.WriteReg(0, size, r);
                c.WriteReg(2, size, r >> bits);
                SetMulFlags(c, size, r, (r >> bits) != 0);
                break;
            }
            default:
            {
                ulong hi = Math.BigMul(a, src, out ulong lo);
                c.R[0] = lo;
                c.R[2] = hi;
                SetMulFlags(c, 8, lo, hi != 0);
                break;
            }
        }
    }

    private static long SignExtend(ulong v, int size) => size switch
    {
        1 => (sbyte)v,
        2 => (short)v,
        4 => (int)v,
        _ => (long)v,
    };

    private void Imul1(Cpu c, Op op)
    {
        int size = op.A.Size;
        long src = SignExtend(c.ReadOp(op.A), size);
        long a = SignExtend(c.R[0], size);
        if (size == 8)
        {
            Int128 r = (Int128)a * src;
            ulong lo = (ulong)(long)r;
            c.R[0] = lo;
            c.R[2] = (ulong)(long)(r >> 64);
            SetMulFlags(c, 8, lo, r != (long)lo);
            return;
        }
        long p = a * src;
        if (size == 1) c.WriteReg(0, 2, (ulong)p);
        else
        {
            c.WriteReg(0, size, (ulong)p);
            c.WriteReg(2, size, (ulong)(p >> (size * 8)));
        }
        SetMulFlags(c, size, (ulong)p, p != SignExtend((ulong)p, size));
    }

    private static void ImulCore(Cpu c, Op op, long x, long y)
    {
        ulong lo = ImulResult(x, y, op.A.Size, out ulong flags);
        c.WriteOp(op.A, lo);
        c.SetArith(flags);
    }

    /// <summary>
    /// The two- and three-operand IMUL: the product's low <paramref name="size"/> bytes and the status flags (CF = OF =
    /// the product does not fit). Pure, so the block compiler's translation uses it too.
    /// </summary>
    internal static ulong ImulResult(long x, long y, int size, out ulong flags)
    {
        if (size == 8)
        {
            Int128 r = (Int128)x * y;
            ulong lo = (ulong)(long)r;
            flags = MulFlags(8, lo, r != (long)lo);
            return lo;
        }
        long p = x * y;
        flags = MulFlags(size, (ulong)p, p != SignExtend((ulong)p, size));
        return (ulong)p;
    }

    private void Imul2(Cpu c, Op op) =>
        ImulCore(c, op, SignExtend(c.ReadOp(op.A), op.A.Size), SignExtend(c.ReadOp(op.B), op.A.Size));

    private void Imul3(Cpu c, Op op) =>
        ImulCore(c, op, SignExtend(c.ReadOp(op.B), op.A.Size), SignExtend(op.C.Value, op.C.Size == 0 ? op.A.Size : op.C.Size));

    private void Div(Cpu c, Op op)
    {
        int size = op.A.Size;
        ulong d = c.ReadOp(op.A);
        if (d == 0) throw CpuFaultException.De("DIV by zero");
        switch (size)
        {
            case 1:
            {
                ulong n = c.R[0] & 0xFFFF;
                ulong q = n / d, r = n % d;
                if (q > 0xFF) throw CpuFaultException.De("DIV quotient overflows AL");
                c.WriteReg(0, 2, (r << 8) | q);
                break;
            }
            case 2:
            case 4:
            {
                int bits = size * 8;
                ulong n = ((c.R[2] & Cpu.SizeMask(size)) << bits) | (c.R[0] & Cpu.SizeMask(size));
                ulong q = n / d, r = n % d;
                if (q > Cpu.SizeMask(size)) throw CpuFaultException.De("DIV quotient overflows");
                c.WriteReg(0, size, q);
                c.WriteReg(2, size, r);
                break;
            }
            default:
            {
                UInt128 n = ((UInt128)c.R[2] << 64) | c.R[0];
                UInt128 q = n / d, r = n % d;
                if (q > ulong.MaxValue) throw CpuFaultException.De("DIV quotient overflows RAX");
                c.R[0] = (ulong)q;
                c.R[2] = (ulong)r;
                break;
            }
        }
    }

    private void Idiv(Cpu c, Op op)
    {
        int size = op.A.Size;
        long d = SignExtend(c.ReadOp(op.A), size);
        if (d == 0) throw CpuFaultException.De("IDIV by zero");
        if (size == 8)
        {
            Int128 n = (Int128)(((UInt128)c.R[2] << 64) | c.R[0]);
            // The one quotient C# cannot form (MinValue / -1) overflows RAX anyway: #DE, not a host exception.
            if (n == Int128.MinValue && d == -1) throw CpuFaultException.De("IDIV quotient overflows RAX");
            Int128 q = n / d, r = n % d;
            if (q > long.MaxValue || q < long.MinValue) throw CpuFaultException.De("IDIV quotient overflows RAX");
            c.R[0] = (ulong)(long)q;
            c.R[2] = (ulong)(long)r;
            return;
        }
        long num = size == 1 ? (short)c.R[0] : (long)((SignExtend(c.R[2], size) << (size * 8)) | (long)(c.R[0] & Cpu.SizeMask(size)));
        if (num == long.MinValue && d == -1) throw CpuFaultException.De("IDIV quotient overflows");
        long quo = num / d, rem = num % d;
        long max = (long)(Cpu.SignBit(size) - 1), min = -max - 1;
        if (quo > max || quo < min) throw CpuFaultException.De("IDIV quotient overflows");
        if (size == 1) c.WriteReg(0, 2, (((ulong)rem & 0xFF) << 8) | ((ulong)quo & 0xFF));
        else
        {
            c.WriteReg(0, size, (ulong)quo);
            c.WriteReg(2, size, (ulong)rem);
        }
    }
}
