using Iced.Intel;
using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu.Semantics;

/// <summary>JMP Jcc CALL RET LOOP JCXZ, near and far. A branch to a non-canonical address faults at the branch.</summary>
internal sealed class ControlFlow
{
    /// <summary>Handlers are instance methods: delegates to them are called without the static-delegate thunk.</summary>
    public static readonly ControlFlow Instance = new();

    public Exec? Bind(Op op)
    {
        var i = op.I;
        int slot = Math.Abs(i.StackPointerIncrement);
        switch (op.Mnemonic)
        {
            case Mnemonic.Jmp:
                if (i.Op0Kind is OpKind.FarBranch16 or OpKind.FarBranch32 || (op.A.Kind == OperandKind.Mem && i.MemorySize is MemorySize.SegPtr16 or MemorySize.SegPtr32 or MemorySize.SegPtr64))
                    return FarJmp;
                return op.A.Kind == OperandKind.Imm ? JmpRel : JmpIndirect;
            case Mnemonic.Call:
                if (i.Op0Kind is OpKind.FarBranch16 or OpKind.FarBranch32 || (op.A.Kind == OperandKind.Mem && i.MemorySize is MemorySize.SegPtr16 or MemorySize.SegPtr32 or MemorySize.SegPtr64))
                    return FarCall;
                op.Size = (byte)slot;
                return Call;
            case Mnemonic.Ret:
                op.Size = (byte)(i.OpCount == 1 ? slot - (int)i.Immediate16 : slot);
                return Ret;
            case Mnemonic.Retf:
                return FarRet;
            case Mnemonic.Loop or Mnemonic.Loope or Mnemonic.Loopne:
                op.Sub = op.Mnemonic == Mnemonic.Loop ? 0 : op.Mnemonic == Mnemonic.Loope ? 1 : 2;
                // The count register follows the address size, which Iced names in the code (…_CX, …_ECX, …_RCX).
                string code = i.Code.ToString();
                op.Size = (byte)(code.EndsWith("_RCX", StringComparison.Ordinal) ? 8 : code.EndsWith("_ECX", StringComparison.Ordinal) ? 4 : 2);
                return Loop;
            case Mnemonic.Bound:
                return Bound;
            case Mnemonic.Jcxz or Mnemonic.Jecxz or Mnemonic.Jrcxz:
                op.Size = (byte)(op.Mnemonic == Mnemonic.Jcxz ? 2 : op.Mnemonic == Mnemonic.Jecxz ? 4 : 8);
                return Jcxz;
        }
        if (i.FlowControl == FlowControl.ConditionalBranch && i.ConditionCode != ConditionCode.None && op.A.Kind == OperandKind.Imm)
        {
            op.Sub = (int)i.ConditionCode - 1;
            bool is64 = i.CodeSize == CodeSize.Code64;
            return i.ConditionCode switch
            {
                ConditionCode.ne => is64 ? Jne<Target64> : Jne<Target32>,
                ConditionCode.e => is64 ? Je<Target64> : Je<Target32>,
                _ => Jcc,
            };
        }
        return null;
    }

    /// <summary>Sets RIP to a branch target: canonical in 64-bit mode, inside the CS limit otherwise.</summary>
    internal static void Branch(Cpu c, ulong target)
    {
        if (c.Mode == CpuMode.Long64)
        {
            if (!Cpu.IsCanonical(target)) throw CpuFaultException.Gp(0, $"branch to non-canonical address 0x{target:x}");
        }
        else
        {
            target = c.Mode is CpuMode.Legacy16 or CpuMode.Compat16 ? target & 0xFFFF : (uint)target;
            if (target > c.Seg[(int)SegReg.CS].Limit) throw CpuFaultException.Gp(0, $"branch to 0x{target:x} beyond the CS limit");
        }
        c.Rip = target;
    }

    private void JmpRel(Cpu c, Op op) => Branch(c, op.A.Value);

    private void JmpIndirect(Cpu c, Op op) => Branch(c, c.ReadOp(op.A));

    // JNE/JE close most loops; they get a body per code size so the taken path has no mode test.
    private void Jne<T>(Cpu c, Op op) where T : struct, ITarget
    {
        if (!c.GetZF()) T.Go(c, op.A.Value);
    }

    private void Je<T>(Cpu c, Op op) where T : struct, ITarget
    {
        if (c.GetZF()) T.Go(c, op.A.Value);
    }

    internal interface ITarget { static abstract void Go(Cpu c, ulong target); }

    /// <summary>64-bit code: the target must be canonical.</summary>
    internal struct Target64 : ITarget
    {
        public static void Go(Cpu c, ulong target)
        {
            if (!Cpu.IsCanonical(target)) throw CpuFaultException.Gp(0, $"branch to non-canonical address 0x{target:x}");
            c.Rip = target;
        }
    }

    /// <summary>32-bit code: the target must lie inside the CS limit.</summary>
    internal struct Target32 : ITarget
    {
        public static void Go(Cpu c, ulong target)
        {
            if (target > c.Seg[(int)SegReg.CS].Limit) throw CpuFaultException.Gp(0, $"branch to 0x{target:x} beyond the CS limit");
            c.Rip = target;
        }
    }

    private void Jcc(Cpu c, Op op)
    {
        if (c.Condition(op.Sub)) Branch(c, op.A.Value);
    }

    private void Call(Cpu c, Op op)
    {
        ulong target = op.A.Kind == OperandKind.Imm ? op.A.Value : c.ReadOp(op.A);
        ulong ret = c.Rip;
        ulong oldSp = c.R[4];
        c.Push(op.Size, ret);
        try { Branch(c, target); }
        catch (CpuFaultException) { c.R[4] = oldSp; throw; }
    }

    private void Ret(Cpu c, Op op)
    {
        int size = op.Size;
        ulong target = c.Peek(size, 0);
        if (size == 2) target = (ushort)target;
        Branch(c, target);
        c.R[4] = c.MaskSp(c.R[4] + (ulong)size + (op.I.OpCount == 1 ? (ulong)op.I.Immediate16 : 0UL));
    }

    private void Loop(Cpu c, Op op)
    {
        ulong count = (c.R[1] - 1) & Cpu.SizeMask(op.Size);
        c.WriteReg(1, op.Size, count);
        bool go = count != 0 && (op.Sub == 0 || (op.Sub == 1 ? c.GetZF() : !c.GetZF()));
        if (go) Branch(c, op.A.Value);
    }

    /// <summary>BOUND (legacy and compatibility mode only): #BR when the signed index lies outside [lower, upper].</summary>
    private void Bound(Cpu c, Op op)
    {
        int size = op.A.Size;
        ulong lin = c.Linear(op.B);
        long lower = size == 2 ? (short)c.Read(lin, 2) : (int)c.Read(lin, 4);
        long upper = size == 2 ? (short)c.Read(lin + (ulong)size, 2) : (int)c.Read(lin + (ulong)size, 4);
        long index = size == 2 ? (short)c.ReadOp(op.A) : (int)c.ReadOp(op.A);
        if (index < lower || index > upper)
            throw new CpuFaultException(new CpuFault { Vector = Vector.BR, Reason = $"BOUND: index {index} outside [{lower}, {upper}]" });
    }

    private void Jcxz(Cpu c, Op op)
    {
        if ((c.R[1] & Cpu.SizeMask(op.Size)) == 0) Branch(c, op.A.Value);
    }

    // ---- far transfers through code-segment descriptors (call gates are not modelled) ----

    private static (ushort Sel, ulong Off) FarPointer(Cpu c, Op op)
    {
        var i = op.I;
        if (i.Op0Kind is OpKind.FarBranch16 or OpKind.FarBranch32)
            return (i.FarBranchSelector, i.Op0Kind == OpKind.FarBranch16 ? i.FarBranch16 : i.FarBranch32);
        int offSize = op.A.Size - 2;
        ulong lin = c.Linear(op.A);
        ulong off = c.Read(lin, offSize);
        ushort sel = (ushort)c.Read(lin + (ulong)offSize, 2);
        return (sel, off);
    }

    /// <summary>Checks a far JMP/CALL target: a code segment reachable at the current privilege.</summary>
    private static Segment CheckFarTarget(Cpu c, ushort sel)
    {
        if ((sel & ~3) == 0) throw CpuFaultException.Gp(0, "far branch to a null selector");
        var d = Cpu.ParseDescriptor(sel, c.ReadDescriptor(sel));
        uint err = (uint)(sel & ~3);
        if (!d.S) throw CpuFaultException.NotModelled("far branch through a call gate, task gate or TSS");
        if (!d.IsCode) throw CpuFaultException.Gp(err, $"far branch target 0x{sel:x} is not a code segment");
        if (d.IsConforming ? d.Dpl > c.Cpl : ((sel & 3) > c.Cpl || d.Dpl != c.Cpl))
            throw CpuFaultException.Gp(err, $"far branch target 0x{sel:x}: privilege check failed (DPL {d.Dpl}, CPL {c.Cpl})");
        if (!d.Present) throw CpuFaultException.Np(err, $"far branch target 0x{sel:x} is not present");
        return d;
    }

    private void FarJmp(Cpu c, Op op)
    {
        var (sel, off) = FarPointer(c, op);
        var from = (Cs: c.GetSegment(SegReg.CS).Selector, Ip: c.Rip - (ulong)op.I.Length, Cpl: c.Cpl, Mode: c.Mode);
        var d = CheckFarTarget(c, sel);
        c.LoadCs(d, c.Cpl);
        Branch(c, off);
        c.NotifyFar(FarTransferKind.FarJmp, "JMP FAR", from.Cs, from.Ip, from.Cpl, from.Mode);
    }

    private void FarCall(Cpu c, Op op)
    {
        var (sel, off) = FarPointer(c, op);
        var from = (Cs: c.GetSegment(SegReg.CS).Selector, Ip: c.Rip - (ulong)op.I.Length, Cpl: c.Cpl, Mode: c.Mode);
        var d = CheckFarTarget(c, sel);
        int size = Math.Abs(op.I.StackPointerIncrement) / 2;
        ulong oldSp = c.R[4];
        var oldCs = c.GetSegment(SegReg.CS);
        c.Push(size, oldCs.Selector);
        c.Push(size, c.Rip);
        try
        {
            c.LoadCs(d, c.Cpl);
            Branch(c, off);
        }
        catch (CpuFaultException)
        {
            c.R[4] = oldSp;
            c.LoadCs(oldCs, oldCs.Dpl);
            throw;
        }
        c.NotifyFar(FarTransferKind.FarCall, "CALL FAR", from.Cs, from.Ip, from.Cpl, from.Mode);
    }

    private void FarRet(Cpu c, Op op)
    {
        int size = op.I.Code switch
        {
            Code.Retfw or Code.Retfw_imm16 => 2,
            Code.Retfq or Code.Retfq_imm16 => 8,
            _ => 4,
        };
        var from = (Cs: c.GetSegment(SegReg.CS).Selector, Ip: c.Rip - (ulong)op.I.Length, Cpl: c.Cpl, Mode: c.Mode);
        ulong imm = op.I.OpCount == 1 ? (ulong)op.I.Immediate16 : 0UL;
        ulong ip = c.Peek(size, 0);
        ushort sel = (ushort)c.Peek(size, size);
        var cs = c.CheckReturnCs(sel);
        int rpl = sel & 3;
        bool outer = rpl > c.Cpl;
        if (outer)
        {
            ulong sp = c.Peek(size, 2 * size + (int)imm);
            ushort ssSel = (ushort)c.Peek(size, 3 * size + (int)imm);
            var ss = c.CheckReturnSs(ssSel, rpl, (c.Efer & Msr.EferLma) != 0 && cs.L);
            c.LoadCs(cs, rpl);
            Branch(c, ip);
            c.Seg[(int)SegReg.SS] = ss;
            c.R[4] = c.MaskSp(sp + imm);
            c.ValidateDataSegmentsAfterReturn();
        }
        else
        {
            c.LoadCs(cs, rpl);
            Branch(c, ip);
            c.R[4] = c.MaskSp(c.R[4] + (ulong)(2 * size) + imm);
        }
        c.NotifyFar(FarTransferKind.FarRet, "RETF", from.Cs, from.Ip, from.Cpl, from.Mode);
    }
}
