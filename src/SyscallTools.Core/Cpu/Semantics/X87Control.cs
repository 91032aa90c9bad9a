using Iced.Intel;
using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu.Semantics;

/// <summary>
/// The x87 control instructions (SDM Vol. 1 §8.1, Vol. 2): FNINIT FNSTCW FLDCW FNSTSW FNCLEX and their waiting forms,
/// and FWAIT. x87 arithmetic and loads/stores of values are not modelled (#UD "not modelled").
/// </summary>
internal sealed class X87Control
{
    public static readonly X87Control Instance = new();

    /// <summary>FSW bits: the exception flags (IE DE ZE OE UE PE), the stack fault, the summary and busy bits.</summary>
    private const ushort FswExceptions = 0x3F, FswSf = 0x40, FswEs = 0x80, FswB = 0x8000;

    public Exec? Bind(Op op)
    {
        // Waiting forms (FINIT, FSTCW...) check for pending exceptions first, as FWAIT does.
        switch (op.I.Code)
        {
            case Code.Fninit: op.Sub = 0; return Fninit;
            case Code.Finit: op.Sub = 1; return Fninit;
            case Code.Fnstcw_m2byte: op.Sub = 0; return Fnstcw;
            case Code.Fstcw_m2byte: op.Sub = 1; return Fnstcw;
            case Code.Fldcw_m2byte: return Fldcw;
            case Code.Fnstsw_AX or Code.Fnstsw_m2byte: op.Sub = 0; return Fnstsw;
            case Code.Fstsw_AX or Code.Fstsw_m2byte: op.Sub = 1; return Fnstsw;
            case Code.Fnclex: op.Sub = 0; return Fnclex;
            case Code.Fclex: op.Sub = 1; return Fnclex;
            case Code.Wait: return Fwait;
            default: return null;
        }
    }

    /// <summary>
    /// FWAIT: #NM when CR0.MP and CR0.TS are both set; #MF when an unmasked x87 exception is pending (FSW.ES, which only
    /// FXRSTOR or FLDCW can set here since the model does no x87 arithmetic).
    /// </summary>
    private static void Wait(Cpu c)
    {
        if ((c.Cr0 & (ControlBits.Cr0Mp | ControlBits.Cr0Ts)) == (ControlBits.Cr0Mp | ControlBits.Cr0Ts))
            throw CpuFaultException.Nm("FWAIT with CR0.MP and CR0.TS set");
        if ((c.Fsw & FswEs) != 0)
            throw new CpuFaultException(new CpuFault { Vector = Vector.MF, Reason = $"pending unmasked x87 exception (FSW 0x{c.Fsw:x4})" });
    }

    private void Fwait(Cpu c, Op op) => Wait(c);

    private void Fninit(Cpu c, Op op)
    {
        c.X87Check(op);
        if (op.Sub == 1) Wait(c);
        c.ResetX87();
    }

    private void Fnstcw(Cpu c, Op op)
    {
        c.X87Check(op);
        if (op.Sub == 1) Wait(c);
        c.WriteOp(op.A, c.Fcw);
    }

    /// <summary>
    /// Bits 13-15 and 6 of the control word are reserved: they read back as 0 and 1 (FLDCW 0xFFFF then FNSTCW gives
    /// 0x1F7F, 0 gives 0x0040, on the machines the tests were checked on). A pending exception the new word unmasks sets ES and B.
    /// </summary>
    private void Fldcw(Cpu c, Op op)
    {
        c.X87Check(op);
        ushort v = (ushort)c.ReadOp(op.A);
        c.Fcw = (ushort)((v & 0x1F3F) | 0x40);
        UpdateSummary(c);
    }

    private void Fnstsw(Cpu c, Op op)
    {
        c.X87Check(op);
        if (op.Sub == 1) Wait(c);
        c.WriteOp(op.A, c.Fsw);
    }

    private void Fnclex(Cpu c, Op op)
    {
        c.X87Check(op);
        if (op.Sub == 1) Wait(c);
        c.Fsw = (ushort)(c.Fsw & ~(FswExceptions | FswSf | FswEs | FswB));
    }

    private static void UpdateSummary(Cpu c)
    {
        bool pending = (c.Fsw & ~c.Fcw & FswExceptions) != 0;
        c.Fsw = pending ? (ushort)(c.Fsw | FswEs | FswB) : (ushort)(c.Fsw & ~(FswEs | FswB));
    }
}
