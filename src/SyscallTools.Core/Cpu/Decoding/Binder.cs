using Iced.Intel;
using SyscallTools.Core.Cpu.Semantics;

namespace SyscallTools.Core.Cpu.Decoding;

/// <summary>
/// Turns an Iced instruction into an <see cref="Op"/>: operands resolved to register numbers and address
/// parts, and the handler chosen from the instruction families, each family in its own file.
/// </summary>
internal static class Binder
{
    private static readonly Func<Op, Exec?>[] Families =
    [
        FastAlu.Instance.Bind, Arithmetic.Instance.Bind, Logic.Instance.Bind, Shifts.Instance.Bind, DataMovement.Instance.Bind,
        Stack.Instance.Bind, ControlFlow.Instance.Bind, Strings.Instance.Bind, FlagOps.Instance.Bind, Bits.Instance.Bind,
        SystemOps.Instance.Bind, Transitions.Instance.Bind,
        SseMove.Instance.Bind, SseInteger.Instance.Bind, SseShuffle.Instance.Bind, SimdControl.Instance.Bind, X87Control.Instance.Bind, Bmi.Instance.Bind, SseCompare.Instance.Bind, X87Data.Instance.Bind, SseArith.Instance.Bind,
    ];

    public static Op Bind(in Instruction i, int bitness)
    {
        var op = new Op { Run = NotModelled, I = i, Ip = i.IP, Next = i.NextIP };
        if (i.Code == Code.INVALID)
        {
            op.Run = Invalid;
            return op;
        }
        int n = Math.Min(i.OpCount, 3);
        for (int k = 0; k < n; k++)
        {
            var o = Resolve(i, k, bitness);
            if (k == 0) op.A = o; else if (k == 1) op.B = o; else op.C = o;
        }
        op.Size = op.A.Size != 0 ? op.A.Size : (byte)(bitness / 8);
        // Immediates take the size of the destination (they arrive sign-extended from Iced).
        if (op.B.Kind == OperandKind.Imm && op.A.Size is > 0 and <= 8) { op.B.Size = op.A.Size; op.B.Value &= Cpu.SizeMask(op.A.Size); }
        if (op.C.Kind == OperandKind.Imm && op.A.Size is > 0 and <= 8 && i.Mnemonic != Mnemonic.Shld && i.Mnemonic != Mnemonic.Shrd)
        { op.C.Size = op.A.Size; op.C.Value &= Cpu.SizeMask(op.A.Size); }

        foreach (var family in Families)
        {
            var run = family(op);
            if (run is not null) { op.Run = run; return op; }
        }
        return op;
    }

    private static Operand Resolve(in Instruction i, int k, int bitness)
    {
        var o = new Operand { Base = Operand.NoReg, Index = Operand.NoReg, Reg = Operand.NoReg };
        switch (i.GetOpKind(k))
        {
            case OpKind.Register:
            {
                var r = i.GetOpRegister(k);
                if (r.IsGPR())
                {
                    o.Size = (byte)r.GetSize();
                    if (r is Register.AH or Register.CH or Register.DH or Register.BH)
                    {
                        o.Kind = OperandKind.RegHigh8;
                        o.Reg = (byte)(r - Register.AH);
                    }
                    else
                    {
                        o.Kind = OperandKind.Reg;
                        o.Reg = (byte)(r.GetFullRegister() - Register.RAX);
                    }
                }
                else if (r.IsXMM())
                {
                    o.Kind = OperandKind.Xmm;
                    o.Reg = (byte)(r - Register.XMM0);
                    o.Size = 16;
                }
                else
                {
                    o.Kind = OperandKind.Other;
                    o.Size = (byte)r.GetSize();
                }
                break;
            }
            case OpKind.Immediate8:
            case OpKind.Immediate16:
            case OpKind.Immediate32:
            case OpKind.Immediate64:
            case OpKind.Immediate8to16:
            case OpKind.Immediate8to32:
            case OpKind.Immediate8to64:
            case OpKind.Immediate32to64:
                o.Kind = OperandKind.Imm;
                o.Value = i.GetImmediate(k);
                o.Size = (byte)(i.GetOpKind(k) switch
                {
                    OpKind.Immediate8 => 1,
                    OpKind.Immediate16 or OpKind.Immediate8to16 => 2,
                    OpKind.Immediate32 or OpKind.Immediate8to32 => 4,
                    _ => 8,
                });
                break;
            case OpKind.NearBranch16:
            case OpKind.NearBranch32:
            case OpKind.NearBranch64:
                o.Kind = OperandKind.Imm;
                o.Value = i.NearBranchTarget;
                o.Size = (byte)(bitness / 8);
                break;
            case OpKind.Memory:
                o.Kind = OperandKind.Mem;
                o.Size = (byte)i.MemorySize.GetSize();
                o.Seg = (byte)(i.MemorySegment - Register.ES);
                if (i.IsIPRelativeMemoryOperand)
                {
                    o.Value = i.IPRelativeMemoryAddress;
                    o.AddrBytes = (byte)(i.MemoryBase == Register.EIP ? 4 : 8);
                    break;
                }
                o.Value = i.MemoryDisplacement64;
                if (i.MemoryBase != Register.None)
                {
                    o.Base = (byte)(i.MemoryBase.GetFullRegister() - Register.RAX);
                    o.AddrBytes = (byte)i.MemoryBase.GetSize();
                }
                if (i.MemoryIndex != Register.None)
                {
                    o.Index = (byte)(i.MemoryIndex.GetFullRegister() - Register.RAX);
                    o.Scale = (byte)System.Numerics.BitOperations.Log2((uint)i.MemoryIndexScale);
                    o.AddrBytes = (byte)i.MemoryIndex.GetSize();
                }
                if (o.AddrBytes == 0)
                    o.AddrBytes = (byte)(bitness == 64 ? (i.MemoryDisplSize == 4 ? 4 : 8) : i.MemoryDisplSize == 2 ? 2 : 4);
                break;
            default:
                o.Kind = OperandKind.Other;
                break;
        }
        return o;
    }

    private static void Invalid(Cpu cpu, Op op) => throw CpuFaultException.Ud("the bytes do not decode to a valid instruction");

    internal static void NotModelled(Cpu cpu, Op op) => throw CpuFaultException.NotModelled(op.I.Mnemonic.ToString().ToUpperInvariant());

    /// <summary>
    /// Instructions after which the interpreter must leave the block: control flow and anything that changes how later
    /// code runs. Not SWAPGS: it changes only GS.base, which every later access reads when it runs (the entry stubs
    /// begin with it, and their blocks run on from it).
    /// </summary>
    public static bool EndsBlock(in Instruction i)
    {
        if (i.FlowControl != FlowControl.Next) return true;
        return i.Mnemonic switch
        {
            Mnemonic.Popf or Mnemonic.Popfd or Mnemonic.Popfq or Mnemonic.Sti or Mnemonic.Cli or Mnemonic.Wrmsr
                or Mnemonic.Lgdt or Mnemonic.Lidt or Mnemonic.Ltr or Mnemonic.Lldt
                or Mnemonic.Invlpg or Mnemonic.Sahf or Mnemonic.Ud2 or Mnemonic.Hlt
                or Mnemonic.Lss or Mnemonic.Lds or Mnemonic.Les or Mnemonic.Lfs or Mnemonic.Lgs => true,
            Mnemonic.Mov => i.Op0Kind == OpKind.Register && (i.Op0Register.IsSegmentRegister() || i.Op0Register.IsCR()),
            Mnemonic.Pop => i.Op0Kind == OpKind.Register && i.Op0Register.IsSegmentRegister(),
            _ => false,
        };
    }
}
