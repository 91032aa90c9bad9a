using Iced.Intel;
using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu.Semantics;

/// <summary>PUSH POP (general, segment) PUSHF POPF PUSHA POPA ENTER LEAVE.</summary>
internal sealed class Stack
{
    /// <summary>Handlers are instance methods: delegates to them are called without the static-delegate thunk.</summary>
    public static readonly Stack Instance = new();

    public Exec? Bind(Op op)
    {
        // Iced knows how far each form moves the stack pointer; the slot size follows from it.
        int slot = Math.Abs(op.I.StackPointerIncrement);
        switch (op.Mnemonic)
        {
            case Mnemonic.Push:
                op.Size = (byte)slot;
                if (op.A.Kind == OperandKind.Other) return PushSeg;
                return op.A.Kind == OperandKind.Reg && slot == 8 ? PushR64 : Push;
            case Mnemonic.Pop:
                op.Size = (byte)slot;
                if (op.A.Kind == OperandKind.Other) return PopSeg;
                return op.A.Kind == OperandKind.Reg && slot == 8 ? PopR64 : Pop;
            case Mnemonic.Pushf or Mnemonic.Pushfd or Mnemonic.Pushfq:
                op.Size = (byte)slot;
                return Pushf;
            case Mnemonic.Popf or Mnemonic.Popfd or Mnemonic.Popfq:
                op.Size = (byte)slot;
                return Popf;
            case Mnemonic.Pusha or Mnemonic.Pushad:
                op.Size = (byte)(slot / 8);
                return Pusha;
            case Mnemonic.Popa or Mnemonic.Popad:
                op.Size = (byte)(slot / 8);
                return Popa;
            case Mnemonic.Leave:
                op.Size = (byte)(op.I.Code switch { Code.Leavew => 2, Code.Leaveq => 8, _ => 4 });
                return Leave;
            case Mnemonic.Enter:
                return Enter;
            default:
                return null;
        }
    }

    private void PushR64(Cpu c, Op op) => c.Push(8, c.R[op.A.Reg]);

    private void PopR64(Cpu c, Op op)
    {
        ulong v = c.Pop(8);
        c.R[op.A.Reg] = v;
    }

    private void Push(Cpu c, Op op)
    {
        // PUSH RSP/ESP pushes the value before the decrement, which ReadOp naturally gives.
        ulong v = c.ReadOp(op.A);
        c.Push(op.Size, v);
    }

    private void Pop(Cpu c, Op op)
    {
        // POP to memory computes the address after RSP is incremented; the old RSP is restored on a fault.
        ulong oldSp = c.R[4];
        ulong v = c.Pop(op.Size);
        try { c.WriteOp(op.A, v); }
        catch (CpuFaultException) { c.R[4] = oldSp; throw; }
    }

    private void PushSeg(Cpu c, Op op)
    {
        var seg = (SegReg)(op.I.Op0Register - Register.ES);
        c.Push(op.Size, c.GetSegment(seg).Selector);
    }

    private void PopSeg(Cpu c, Op op)
    {
        var seg = (SegReg)(op.I.Op0Register - Register.ES);
        ushort sel = (ushort)c.Peek(op.Size, 0);
        c.LoadDataSegment(seg, sel);
        c.Pop(op.Size);
        if (seg == SegReg.SS) c.Shadow = Cpu.ShadowMovSs;
    }

    private void Pushf(Cpu c, Op op)
    {
        // The image has VM and RF cleared.
        c.Push(op.Size, c.Rflags & ~(RFlags.VM | RFlags.RF));
    }

    private void Popf(Cpu c, Op op)
    {
        ulong v = c.Peek(op.Size, 0);
        c.Pop(op.Size);
        c.Rflags = PopfResult(c, v, op.Size);
    }

    /// <summary>Which bits POPF may change (SDM Vol. 2B "POPF"): IOPL only at CPL 0, IF only at CPL ≤ IOPL; VM, VIF, VIP never; RF cleared.</summary>
    internal static ulong PopfResult(Cpu c, ulong image, int size)
    {
        ulong old = c.Rflags;
        ulong changeable = RFlags.Arith | RFlags.TF | RFlags.DF | RFlags.NT | RFlags.AC | RFlags.ID;
        if (c.Cpl == 0) changeable |= RFlags.IOPL | RFlags.IF;
        else if (c.Cpl <= RFlags.Iopl(old)) changeable |= RFlags.IF;
        if (size == 2) changeable &= 0xFFFF;
        return ((old & ~changeable) | (image & changeable)) & ~RFlags.RF;
    }

    private void Pusha(Cpu c, Op op)
    {
        int size = op.Size;
        ulong sp0 = c.R[4];
        // Check the lowest slot first so a fault leaves ESP unchanged.
        ulong top = (uint)(sp0 - (ulong)(8 * size));
        c.ProbeWrite(c.StackLinear(top), 8 * size, c.Cpl == 3);
        for (int r = 0; r < 8; r++) c.Push(size, r == 4 ? sp0 : c.R[r]);
    }

    private void Popa(Cpu c, Op op)
    {
        int size = op.Size;
        var vals = new ulong[8];
        for (int k = 0; k < 8; k++) vals[7 - k] = c.Peek(size, k * size);
        for (int r = 0; r < 8; r++) if (r != 4) c.WriteReg(r, size, vals[r]);
        c.R[4] = c.MaskSp(c.R[4] + (ulong)(8 * size));
    }

    private void Leave(Cpu c, Op op)
    {
        int size = op.Size;
        ulong oldSp = c.R[4];
        c.R[4] = c.MaskSp(c.R[5]);
        try
        {
            ulong bp = c.Pop(size);
            c.WriteReg(5, size, bp);
        }
        catch (CpuFaultException) { c.R[4] = oldSp; throw; }
    }

    private void Enter(Cpu c, Op op)
    {
        int level = (int)(op.I.Immediate8_2nd & 31);
        if (level != 0) throw CpuFaultException.NotModelled("ENTER with a nesting level");
        // The operand size is in the encoding: ENTERW (66 prefix), ENTERD, ENTERQ.
        int size = op.I.Code switch { Code.Enterw_imm16_imm8 => 2, Code.Enterq_imm16_imm8 => 8, _ => 4 };
        ulong oldSp = c.R[4];
        try
        {
            c.Push(size, c.R[5]);
            ulong frame = c.R[4];
            c.WriteReg(5, size, frame);
            c.R[4] = c.MaskSp(c.R[4] - op.I.Immediate16);
        }
        catch (CpuFaultException) { c.R[4] = oldSp; throw; }
    }
}
