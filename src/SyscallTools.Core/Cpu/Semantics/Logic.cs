using Iced.Intel;
using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu.Semantics;

/// <summary>AND OR XOR NOT TEST. CF and OF are cleared; AF is undefined and this model clears it.</summary>
internal sealed class Logic
{
    /// <summary>Handlers are instance methods: delegates to them are called without the static-delegate thunk.</summary>
    public static readonly Logic Instance = new();

    public Exec? Bind(Op op)
    {
        return op.Mnemonic switch
        {
            Mnemonic.And => And,
            Mnemonic.Or => Or,
            Mnemonic.Xor => Xor,
            Mnemonic.Test => Test,
            Mnemonic.Not => Not,
            _ => null,
        };
    }

    private void And(Cpu c, Op op)
    {
        ulong r = c.ReadForUpdate(op.A, out var lin) & c.ReadOp(op.B);
        c.WriteBack(op.A, lin, r);
        c.SetLazy(LazyOp.Logic, op.Size, 0, 0, r);
    }

    private void Or(Cpu c, Op op)
    {
        ulong r = c.ReadForUpdate(op.A, out var lin) | c.ReadOp(op.B);
        c.WriteBack(op.A, lin, r);
        c.SetLazy(LazyOp.Logic, op.Size, 0, 0, r);
    }

    private void Xor(Cpu c, Op op)
    {
        ulong r = c.ReadForUpdate(op.A, out var lin) ^ c.ReadOp(op.B);
        c.WriteBack(op.A, lin, r);
        c.SetLazy(LazyOp.Logic, op.Size, 0, 0, r);
    }

    private void Test(Cpu c, Op op) =>
        c.SetLazy(LazyOp.Logic, op.Size, 0, 0, c.ReadOp(op.A) & c.ReadOp(op.B));

    private void Not(Cpu c, Op op)
    {
        ulong r = ~c.ReadForUpdate(op.A, out var lin);
        c.WriteBack(op.A, lin, r);
    }
}
