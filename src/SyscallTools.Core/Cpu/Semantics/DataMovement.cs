using Iced.Intel;
using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu.Semantics;

/// <summary>MOV MOVZX MOVSX MOVSXD LEA XCHG CMOVcc SETcc BSWAP and the sign-extension family (CBW ... CQO).</summary>
internal sealed class DataMovement
{
    /// <summary>Handlers are instance methods: delegates to them are called without the static-delegate thunk.</summary>
    public static readonly DataMovement Instance = new();

    public Exec? Bind(Op op)
    {
        var i = op.I;
        switch (op.Mnemonic)
        {
            case Mnemonic.Mov:
                if (op.A.Kind == OperandKind.Other || op.B.Kind == OperandKind.Other) return null; // segment / control registers
                if (op.A.Kind == OperandKind.Reg && op.B.Kind == OperandKind.Reg) return MovRR;
                if (op.A.Kind == OperandKind.Reg && op.B.Kind == OperandKind.Imm) return MovRI;
                return Mov;
            case Mnemonic.Movzx: return Movzx;
            case Mnemonic.Movsx or Mnemonic.Movsxd: return Movsx;
            case Mnemonic.Lea: return Lea;
            case Mnemonic.Xchg: return Xchg;
            case Mnemonic.Bswap: return Bswap;
            case Mnemonic.Cbw or Mnemonic.Cwde or Mnemonic.Cdqe: return WidenAccumulator;
            case Mnemonic.Cwd or Mnemonic.Cdq or Mnemonic.Cqo: return SignIntoRdx;
        }
        var cc = i.ConditionCode;
        if (cc != ConditionCode.None)
        {
            // Iced numbers condition codes o, no, b, ae, e, ne, be, a, s, ns, p, np, l, ge, le, g: the hardware order.
            op.Sub = (int)cc - 1;
            if (i.Mnemonic.ToString().StartsWith("Cmov", StringComparison.Ordinal)) return Cmov;
            if (i.Mnemonic.ToString().StartsWith("Set", StringComparison.Ordinal)) return Setcc;
        }
        return null;
    }

    private void MovRR(Cpu c, Op op)
    {
        ulong v = op.B.Size == 8 ? c.R[op.B.Reg] : c.ReadOp(op.B);
        c.WriteReg(op.A.Reg, op.A.Size, v);
    }

    private void MovRI(Cpu c, Op op) => c.WriteReg(op.A.Reg, op.A.Size, op.B.Value);

    private void Mov(Cpu c, Op op) => c.WriteOp(op.A, c.ReadOp(op.B));

    private void Movzx(Cpu c, Op op) => c.WriteOp(op.A, c.ReadOp(op.B));

    private void Movsx(Cpu c, Op op)
    {
        ulong v = c.ReadOp(op.B);
        long s = op.B.Size switch { 1 => (sbyte)v, 2 => (short)v, 4 => (int)v, _ => (long)v };
        c.WriteOp(op.A, (ulong)s);
    }

    private void Lea(Cpu c, Op op)
    {
        // The effective address only: no segment base, no access, no canonical check.
        var m = op.B;
        ulong ea = m.Value;
        if (m.Base != Operand.NoReg) ea += c.R[m.Base];
        if (m.Index != Operand.NoReg) ea += c.R[m.Index] << m.Scale;
        if (m.AddrBytes == 4) ea = (uint)ea; else if (m.AddrBytes == 2) ea = (ushort)ea;
        c.WriteOp(op.A, ea);
    }

    private void Xchg(Cpu c, Op op)
    {
        ulong a = c.ReadForUpdate(op.A, out var lin), b = c.ReadForUpdate(op.B, out var lin2);
        c.WriteBack(op.A, lin, b);
        c.WriteBack(op.B, lin2, a);
    }

    private void Cmov(Cpu c, Op op)
    {
        ulong v = c.ReadOp(op.B); // the source is read (and may fault) whether or not the move happens
        if (c.Condition(op.Sub)) c.WriteOp(op.A, v);
        else if (op.A.Size == 4) c.R[op.A.Reg] = (uint)c.R[op.A.Reg]; // a 32-bit CMOVcc zero-extends even when false
    }

    private void Setcc(Cpu c, Op op) => c.WriteOp(op.A, c.Condition(op.Sub) ? 1UL : 0UL);

    private void Bswap(Cpu c, Op op)
    {
        ulong v = c.R[op.A.Reg];
        c.WriteReg(op.A.Reg, op.A.Size, op.A.Size == 8 ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v)
            : System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)v));
    }

    private void WidenAccumulator(Cpu c, Op op)
    {
        switch (op.Mnemonic)
        {
            case Mnemonic.Cbw: c.WriteReg(0, 2, (ulong)(short)(sbyte)c.R[0]); break;
            case Mnemonic.Cwde: c.WriteReg(0, 4, (ulong)(int)(short)c.R[0]); break;
            default: c.R[0] = (ulong)(long)(int)c.R[0]; break;
        }
    }

    private void SignIntoRdx(Cpu c, Op op)
    {
        switch (op.Mnemonic)
        {
            case Mnemonic.Cwd: c.WriteReg(2, 2, (c.R[0] & 0x8000) != 0 ? 0xFFFFUL : 0UL); break;
            case Mnemonic.Cdq: c.WriteReg(2, 4, (c.R[0] & 0x8000_0000) != 0 ? 0xFFFF_FFFFUL : 0UL); break;
            default: c.R[2] = (c.R[0] & 0x8000_0000_0000_0000) != 0 ? ulong.MaxValue : 0; break;
        }
    }
}
