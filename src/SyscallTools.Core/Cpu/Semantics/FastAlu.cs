using Iced.Intel;
using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu.Semantics;

/// <summary>
/// The hot register forms of the two-operand ALU instructions (destination a 32- or 64-bit register, source a
/// register or an immediate), as generic methods over struct type parameters: the JIT compiles one branch-free
/// body per (operation, source, width), which is what the interpreter's speed target needs. Semantics are the
/// same as the general forms in Arithmetic.cs and Logic.cs; the native vectors test both.
/// </summary>
internal sealed class FastAlu
{
    /// <summary>Handlers are instance methods: delegates to them are called without the static-delegate thunk.</summary>
    public static readonly FastAlu Instance = new();

    public Exec? Bind(Op op)
    {
        if (op.A.Kind != OperandKind.Reg || op.A.Size < 4) return null;
        bool imm = op.B.Kind == OperandKind.Imm;
        if (!imm && op.B.Kind != OperandKind.Reg) return null;
        bool w64 = op.A.Size == 8;
        return op.Mnemonic switch
        {
            Mnemonic.Add => Pick<AddOp>(imm, w64),
            Mnemonic.Sub => Pick<SubOp>(imm, w64),
            Mnemonic.Cmp => Pick<CmpOp>(imm, w64),
            Mnemonic.And => Pick<AndOp>(imm, w64),
            Mnemonic.Or => Pick<OrOp>(imm, w64),
            Mnemonic.Xor => Pick<XorOp>(imm, w64),
            Mnemonic.Test => Pick<TestOp>(imm, w64),
            _ => null,
        };
    }

    private Exec Pick<TOp>(bool imm, bool w64) where TOp : struct, IAluOp =>
        (imm, w64) switch
        {
            (true, true) => Alu<TOp, ImmSrc, W64>,
            (true, false) => Alu<TOp, ImmSrc, W32>,
            (false, true) => Alu<TOp, RegSrc, W64>,
            _ => Alu<TOp, RegSrc, W32>,
        };

    private void Alu<TOp, TSrc, TW>(Cpu c, Op op)
        where TOp : struct, IAluOp where TSrc : struct, ISrc where TW : struct, IWidth
    {
        ulong a = c.R[op.A.Reg], b = TSrc.Get(c, op);
        ulong r = TOp.Apply(a, b);
        if (TOp.Writes) c.R[op.A.Reg] = TW.Bytes == 8 ? r : (uint)r;
        c.LzOp = TOp.Kind;
        c.LzBytes = (byte)TW.Bytes;
        c.LzA = a;
        c.LzB = b;
        c.LzRes = r;
    }

    internal interface ISrc { static abstract ulong Get(Cpu c, Op op); }
    internal struct RegSrc : ISrc { public static ulong Get(Cpu c, Op op) => c.R[op.B.Reg]; }
    internal struct ImmSrc : ISrc { public static ulong Get(Cpu c, Op op) => op.B.Value; }

    internal interface IWidth { static abstract int Bytes { get; } }
    internal struct W32 : IWidth { public static int Bytes => 4; }
    internal struct W64 : IWidth { public static int Bytes => 8; }

    internal interface IAluOp
    {
        static abstract ulong Apply(ulong a, ulong b);
        static abstract LazyOp Kind { get; }
        static abstract bool Writes { get; }
    }
    internal struct AddOp : IAluOp { public static ulong Apply(ulong a, ulong b) => a + b; public static LazyOp Kind => LazyOp.Add; public static bool Writes => true; }
    internal struct SubOp : IAluOp { public static ulong Apply(ulong a, ulong b) => a - b; public static LazyOp Kind => LazyOp.Sub; public static bool Writes => true; }
    internal struct CmpOp : IAluOp { public static ulong Apply(ulong a, ulong b) => a - b; public static LazyOp Kind => LazyOp.Sub; public static bool Writes => false; }
    internal struct AndOp : IAluOp { public static ulong Apply(ulong a, ulong b) => a & b; public static LazyOp Kind => LazyOp.Logic; public static bool Writes => true; }
    internal struct OrOp : IAluOp { public static ulong Apply(ulong a, ulong b) => a | b; public static LazyOp Kind => LazyOp.Logic; public static bool Writes => true; }
    internal struct XorOp : IAluOp { public static ulong Apply(ulong a, ulong b) => a ^ b; public static LazyOp Kind => LazyOp.Logic; public static bool Writes => true; }
    internal struct TestOp : IAluOp { public static ulong Apply(ulong a, ulong b) => a & b; public static LazyOp Kind => LazyOp.Logic; public static bool Writes => false; }
}
