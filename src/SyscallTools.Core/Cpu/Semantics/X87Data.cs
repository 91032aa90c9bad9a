using Iced.Intel;
using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu.Semantics;

/// <summary>
/// x87 instructions that move, classify and compare values without arithmetic rounding, which glibc's printf uses on
/// i386 (SDM Vol. 2): FLD (m32 m64 m80 ST(i)), FILD (m16 m32 m64), FLD1 FLDZ, FST/FSTP (m32 m64 m80 ST(i)) — rounding
/// to the memory format with FCW.RC —, FXCH FABS FCHS FXAM FUCOMI FUCOMIP. Stack overflow and underflow set IE and SF
/// with the masked response (the QNaN indefinite). The last-instruction pointers FXSAVE stores (FIP FDP FOP) are not
/// tracked. x87 arithmetic (FADD FMUL FDIV...) stays "not modelled".
/// </summary>
internal sealed class X87Data
{
    public static readonly X87Data Instance = new();

    private const ushort Stack = X87Format.FswIe | X87Format.FswSf;

    public Exec? Bind(Op op)
    {
        var i = op.I;
        int sti = i.OpCount > 0 && i.GetOpKind(i.OpCount - 1) == OpKind.Register && i.GetOpRegister(i.OpCount - 1).IsST()
            ? i.GetOpRegister(i.OpCount - 1) - Register.ST0 : 0;
        switch (i.Code)
        {
            case Code.Fld_m32fp or Code.Fld_m64fp or Code.Fld_m80fp or Code.Fild_m16int or Code.Fild_m32int or Code.Fild_m64int:
                return FldMemory;
            case Code.Fld_sti: op.Sub = sti; return FldSt;
            case Code.Fld1: op.Sub = 1; return FldConstant;
            case Code.Fldz: op.Sub = 0; return FldConstant;
            case Code.Fst_m32fp or Code.Fst_m64fp: op.Sub = 0; return FstMemory;
            case Code.Fstp_m32fp or Code.Fstp_m64fp or Code.Fstp_m80fp: op.Sub = 1; return FstMemory;
            case Code.Fst_sti: op.Sub = sti; return FstSt;
            case Code.Fstp_sti: op.Sub = sti | 0x100; return FstSt;
            case Code.Fxch_st0_sti: op.Sub = sti; return Fxch;
            case Code.Fabs: op.Sub = 0; return SignOp;
            case Code.Fchs: op.Sub = 1; return SignOp;
            case Code.Fxam: return Fxam;
            case Code.Fucomi_st0_sti: op.Sub = sti; return Fucomi;
            case Code.Fucomip_st0_sti: op.Sub = sti | 0x100; return Fucomi;
            default:
                // The undocumented aliases of FSTP ST(i) (D9 D8+i, DF D0+i, DF D8+i) and FXCH (DD C8+i, DF C8+i), which
                // the processor runs as the documented forms.
                if (i.Mnemonic == Mnemonic.Fstp && i.Op0Kind == OpKind.Register && i.Op0Register.IsST()) { op.Sub = sti | 0x100; return FstSt; }
                if (i.Mnemonic == Mnemonic.Fxch && i.OpCount > 0 && i.GetOpKind(i.OpCount - 1) == OpKind.Register) { op.Sub = sti; return Fxch; }
                return null;
        }
    }


    /// <summary>Pushes a value: a full register at the new top is a stack overflow (IE SF C1=1; masked: the indefinite is loaded).</summary>
    private static void Push(Cpu c, Op op, Ext v, ushort flags)
    {
        bool overflow = (c.Ftw & (1 << ((c.X87Top - 1) & 7))) != 0;
        if (overflow) { flags = Stack; v = Ext.Indefinite; }
        c.X87Commit(flags, overflow, op);
        c.X87Top--;
        c.X87Set(0, v);
    }

    private void FldMemory(Cpu c, Op op)
    {
        c.X87Check(op);
        ushort flags = 0;
        ulong lin = c.Linear(op.A);
        Ext v = op.I.Code switch
        {
            Code.Fld_m32fp => X87Format.FromBinary(c.Read(lin, 4), 23, 8, out flags),
            Code.Fld_m64fp => X87Format.FromBinary(c.Read(lin, 8), 52, 11, out flags),
            Code.Fld_m80fp => new Ext(c.Read(lin, 8), (ushort)c.Read(c.Wrap(lin + 8), 2)),
            Code.Fild_m16int => X87Format.FromInt64((short)c.Read(lin, 2)),
            Code.Fild_m32int => X87Format.FromInt64((int)c.Read(lin, 4)),
            _ => X87Format.FromInt64((long)c.Read(lin, 8)),
        };
        Push(c, op, v, flags);
    }

    private void FldSt(Cpu c, Op op)
    {
        c.X87Check(op);
        if (c.X87Empty(op.Sub))
        {
            // Underflow of the source: IE SF, C1 = 0; masked, the indefinite is pushed.
            c.X87Commit(Stack, false, op);
            c.X87Top--;
            c.X87Set(0, Ext.Indefinite);
            return;
        }
        Push(c, op, c.X87Get(op.Sub), 0);
    }

    private void FldConstant(Cpu c, Op op)
    {
        c.X87Check(op);
        Push(c, op, op.Sub == 1 ? new Ext(1UL << 63, 16383) : new Ext(0, 0), 0);
    }

    private void FstMemory(Cpu c, Op op)
    {
        c.X87Check(op);
        ulong lin = c.Linear(op.A);
        bool pop = op.Sub == 1, empty = c.X87Empty(0);
        Ext v = empty ? Ext.Indefinite : c.X87Get(0);
        ushort flags = empty ? Stack : (ushort)0;
        bool up = false;
        switch (op.I.Code)
        {
            case Code.Fstp_m80fp:
                c.ProbeWrite(lin, 10, c.Cpl == 3);
                c.X87Commit(flags, false, op);
                c.Write(lin, 8, v.Mant);
                c.Write(c.Wrap(lin + 8), 2, v.SignExp);
                break;
            case Code.Fst_m32fp or Code.Fstp_m32fp:
            {
                ulong bits = X87Format.ToBinary(v, 23, 8, c.X87Rc, out ushort f, out up);
                c.ProbeWrite(lin, 4, c.Cpl == 3);
                c.X87Commit((ushort)(flags | f), up && !empty, op);
                c.Write(lin, 4, bits);
                break;
            }
            default:
            {
                ulong bits = X87Format.ToBinary(v, 52, 11, c.X87Rc, out ushort f, out up);
                c.ProbeWrite(lin, 8, c.Cpl == 3);
                c.X87Commit((ushort)(flags | f), up && !empty, op);
                c.Write(lin, 8, bits);
                break;
            }
        }
        if (pop) c.X87Pop();
    }

    private void FstSt(Cpu c, Op op)
    {
        c.X87Check(op);
        int i = op.Sub & 0xFF;
        bool empty = c.X87Empty(0);
        c.X87Commit(empty ? Stack : (ushort)0, false, op);
        c.X87Set(i, empty ? Ext.Indefinite : c.X87Get(0));
        if ((op.Sub & 0x100) != 0) c.X87Pop();
    }

    private void Fxch(Cpu c, Op op)
    {
        c.X87Check(op);
        int i = op.Sub;
        bool e0 = c.X87Empty(0), ei = c.X87Empty(i);
        c.X87Commit(e0 || ei ? Stack : (ushort)0, false, op);
        var a = e0 ? Ext.Indefinite : c.X87Get(0);
        var b = ei ? Ext.Indefinite : c.X87Get(i);
        c.X87Set(0, b);
        c.X87Set(i, a);
    }

    /// <summary>FABS clears the sign, FCHS flips it; no exception but stack underflow, whose masked response leaves the indefinite as it is; C1 = 0.</summary>
    private void SignOp(Cpu c, Op op)
    {
        c.X87Check(op);
        bool empty = c.X87Empty(0);
        c.X87Commit(empty ? Stack : (ushort)0, false, op);
        var v = c.X87Get(0);
        c.X87Set(0, empty ? Ext.Indefinite : v with { SignExp = (ushort)(op.Sub == 0 ? v.SignExp & 0x7FFF : v.SignExp ^ 0x8000) });
    }

    /// <summary>FXAM: C3 C2 C0 = the class of ST(0) (SDM Vol. 2A FXAM table), C1 = its sign.</summary>
    private void Fxam(Cpu c, Op op)
    {
        c.X87Check(op);
        var v = c.X87Get(0);
        ushort cc = c.X87Empty(0) ? (ushort)(Cpu.FswC3 | Cpu.FswC0)
            : v.IsUnsupported ? (ushort)0
            : v.IsNaN ? Cpu.FswC0
            : v.IsInf ? (ushort)(Cpu.FswC2 | Cpu.FswC0)
            : v.IsZero ? Cpu.FswC3
            : v.IsDenormal ? (ushort)(Cpu.FswC3 | Cpu.FswC2)
            : Cpu.FswC2;
        if (v.Negative) cc |= Cpu.FswC1;
        c.Fsw = (ushort)((c.Fsw & ~(Cpu.FswC0 | Cpu.FswC1 | Cpu.FswC2 | Cpu.FswC3)) | cc);
    }

    /// <summary>
    /// FUCOMI/FUCOMIP: ZF PF CF from comparing ST(0) with ST(i) (unordered: all three), OF SF AF cleared; IE for an SNaN, an
    /// unsupported operand or an empty register (with SF), DE for a denormal. C1 is cleared on a stack underflow and otherwise
    /// left as it was: the SDM says "set to 0", but the processor these tests were checked on (an Intel Xeon) keeps it.
    /// </summary>
    private void Fucomi(Cpu c, Op op)
    {
        c.X87Check(op);
        int i = op.Sub & 0xFF;
        bool empty = c.X87Empty(0) || c.X87Empty(i);
        var a = c.X87Get(0);
        var b = c.X87Get(i);
        ushort flags = 0;
        int cmp;
        if (empty) { flags = Stack; cmp = 2; }
        else if (a.IsUnsupported || b.IsUnsupported || a.IsSNaN || b.IsSNaN) { flags = X87Format.FswIe; cmp = 2; }
        else if (a.IsNaN || b.IsNaN) cmp = 2;
        else
        {
            if (a.IsDenormal || b.IsDenormal) flags = X87Format.FswDe;
            cmp = Compare(a, b);
        }
        c.X87Commit(flags, empty ? false : null, op);
        c.SetArith(cmp switch { 2 => RFlags.ZF | RFlags.PF | RFlags.CF, 0 => RFlags.ZF, < 0 => RFlags.CF, _ => 0 });
        if ((op.Sub & 0x100) != 0) c.X87Pop();
    }

    /// <summary>Orders two non-NaN values; zeros of either sign are equal. A denormal (exponent 0) compares as exponent 1 with its smaller significand.</summary>
    private static int Compare(Ext a, Ext b)
    {
        if (a.IsZero && b.IsZero) return 0;
        if (a.Negative != b.Negative) return a.Negative ? -1 : 1;
        int ea = Math.Max(a.Exp, 1), eb = Math.Max(b.Exp, 1);
        int mag = ea != eb ? ea.CompareTo(eb) : a.Mant.CompareTo(b.Mant);
        if (a.IsZero) mag = -1;
        if (b.IsZero) mag = a.IsZero ? 0 : 1;
        return a.Negative ? -mag : mag;
    }
}
