using Iced.Intel;
using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu.Semantics;

/// <summary>AND OR XOR NOT TEST. CF and OF are cleared; AF is undefined and this model clears it.</summary>
internal static class Logic
{
    public static Exec? Bind(Op op)
    {
        bool fast = op.A.Kind == OperandKind.Reg && op.A.Size >= 4 && (op.B.Kind is OperandKind.Reg or OperandKind.Imm);
        return op.Mnemonic switch
        {
            Mnemonic.And => fast ? AndR : And,
            Mnemonic.Or => fast ? OrR : Or,
            Mnemonic.Xor => fast ? XorR : Xor,
            Mnemonic.Test => fast ? TestR : Test,
            Mnemonic.Not => Not,
            _ => null,
        };
    }

    private static ulong Src(Cpu c, Op op) => op.B.Kind == OperandKind.Imm ? op.B.Value : c.R[op.B.Reg];

    private static void AndR(Cpu c, Op op)
    {
        ulong r = c.R[op.A.Reg] & Src(c, op);
        c.WriteReg(op.A.Reg, op.A.Size, r);
        c.SetLazy(LazyOp.Logic, op.A.Size, 0, 0, r);
    }

    private static void OrR(Cpu c, Op op)
    {
        ulong r = c.R[op.A.Reg] | Src(c, op);
        c.WriteReg(op.A.Reg, op.A.Size, r);
        c.SetLazy(LazyOp.Logic, op.A.Size, 0, 0, r);
    }

    private static void XorR(Cpu c, Op op)
    {
        ulong r = c.R[op.A.Reg] ^ Src(c, op);
        c.WriteReg(op.A.Reg, op.A.Size, r);
        c.SetLazy(LazyOp.Logic, op.A.Size, 0, 0, r);
    }

    private static void TestR(Cpu c, Op op) =>
        c.SetLazy(LazyOp.Logic, op.A.Size, 0, 0, c.R[op.A.Reg] & Src(c, op));

    private static void And(Cpu c, Op op)
    {
        ulong r = c.ReadForUpdate(op.A, out var lin) & c.ReadOp(op.B);
        c.WriteBack(op.A, lin, r);
        c.SetLazy(LazyOp.Logic, op.Size, 0, 0, r);
    }

    private static void Or(Cpu c, Op op)
    {
        ulong r = c.ReadForUpdate(op.A, out var lin) | c.ReadOp(op.B);
        c.WriteBack(op.A, lin, r);
        c.SetLazy(LazyOp.Logic, op.Size, 0, 0, r);
    }

    private static void Xor(Cpu c, Op op)
    {
        ulong r = c.ReadForUpdate(op.A, out var lin) ^ c.ReadOp(op.B);
        c.WriteBack(op.A, lin, r);
        c.SetLazy(LazyOp.Logic, op.Size, 0, 0, r);
    }

    private static void Test(Cpu c, Op op) =>
        c.SetLazy(LazyOp.Logic, op.Size, 0, 0, c.ReadOp(op.A) & c.ReadOp(op.B));

    private static void Not(Cpu c, Op op)
    {
        ulong r = ~c.ReadForUpdate(op.A, out var lin);
        c.WriteBack(op.A, lin, r);
    }
}
