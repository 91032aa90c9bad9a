using System.Numerics;
using Iced.Intel;
using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu.Semantics;

/// <summary>BT BTS BTR BTC BSF BSR TZCNT LZCNT POPCNT.</summary>
internal sealed class Bits
{
    /// <summary>Handlers are instance methods: delegates to them are called without the static-delegate thunk.</summary>
    public static readonly Bits Instance = new();

    public Exec? Bind(Op op)
    {
        switch (op.Mnemonic)
        {
            case Mnemonic.Bt: op.Sub = 0; return BitTest;
            case Mnemonic.Bts: op.Sub = 1; return BitTest;
            case Mnemonic.Btr: op.Sub = 2; return BitTest;
            case Mnemonic.Btc: op.Sub = 3; return BitTest;
            case Mnemonic.Bsf: return Bsf;
            case Mnemonic.Bsr: return Bsr;
            case Mnemonic.Tzcnt: return Tzcnt;
            case Mnemonic.Lzcnt: return Lzcnt;
            case Mnemonic.Popcnt: return Popcnt;
            default: return null;
        }
    }

    /// <summary>CF = the selected bit; with a register offset and a memory operand the offset reaches beyond the operand (a bit string).</summary>
    private void BitTest(Cpu c, Op op)
    {
        int bits = op.A.Size * 8;
        ulong offset = c.ReadOp(op.B);
        ulong value, linear = 0;
        int bit;
        if (op.A.Kind == OperandKind.Mem && op.B.Kind != OperandKind.Imm)
        {
            long signed = op.B.Size switch { 2 => (short)offset, 4 => (int)offset, _ => (long)offset };
            long element = signed >> BitOperations.Log2((uint)bits);
            bit = (int)(signed & (bits - 1));
            linear = c.Linear(op.A) + (ulong)(element * op.A.Size);
            if (c.Mode != CpuMode.Long64) linear = (uint)linear;
            if (op.Sub != 0) c.ProbeWrite(linear, op.A.Size, c.Cpl == 3);
            value = c.Read(linear, op.A.Size);
        }
        else
        {
            bit = (int)(offset & (ulong)(bits - 1));
            value = op.Sub != 0 ? c.ReadForUpdate(op.A, out linear) : c.ReadOp(op.A);
        }
        bool cf = ((value >> bit) & 1) != 0;
        c.SetArithBit(RFlags.CF, cf);
        if (op.Sub == 0) return;
        ulong mask = 1UL << bit;
        ulong r = op.Sub switch { 1 => value | mask, 2 => value & ~mask, _ => value ^ mask };
        if (op.A.Kind == OperandKind.Mem) c.Write(linear, op.A.Size, r);
        else c.WriteOp(op.A, r);
    }

    private void Bsf(Cpu c, Op op)
    {
        ulong v = c.ReadOp(op.B);
        // Source zero: ZF=1 and the destination is left unchanged (AMD documents it; Intel cores behave so).
        if (v == 0) { c.SetArithBit(RFlags.ZF, true); return; }
        c.WriteOp(op.A, (ulong)BitOperations.TrailingZeroCount(v));
        c.SetArithBit(RFlags.ZF, false);
    }

    private void Bsr(Cpu c, Op op)
    {
        ulong v = c.ReadOp(op.B);
        if (v == 0) { c.SetArithBit(RFlags.ZF, true); return; }
        c.WriteOp(op.A, (ulong)(63 - BitOperations.LeadingZeroCount(v)));
        c.SetArithBit(RFlags.ZF, false);
    }

    private void Tzcnt(Cpu c, Op op)
    {
        ulong v = c.ReadOp(op.B);
        int bits = op.A.Size * 8;
        ulong r = v == 0 ? (ulong)bits : (ulong)BitOperations.TrailingZeroCount(v);
        c.WriteOp(op.A, r);
        ulong f = c.ArithFlags() & ~(RFlags.CF | RFlags.ZF);
        if (v == 0) f |= RFlags.CF;
        if (r == 0) f |= RFlags.ZF;
        c.SetArith(f);
    }

    private void Lzcnt(Cpu c, Op op)
    {
        ulong v = c.ReadOp(op.B);
        int bits = op.A.Size * 8;
        ulong r = v == 0 ? (ulong)bits : (ulong)(BitOperations.LeadingZeroCount(v) - (64 - bits));
        c.WriteOp(op.A, r);
        ulong f = c.ArithFlags() & ~(RFlags.CF | RFlags.ZF);
        if (v == 0) f |= RFlags.CF;
        if (r == 0) f |= RFlags.ZF;
        c.SetArith(f);
    }

    private void Popcnt(Cpu c, Op op)
    {
        ulong v = c.ReadOp(op.B);
        c.WriteOp(op.A, (ulong)BitOperations.PopCount(v));
        c.SetArith(v == 0 ? RFlags.ZF : 0);
    }
}
