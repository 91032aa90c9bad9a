using Iced.Intel;
using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu.Semantics;

/// <summary>
/// BMI1's VEX-encoded general-register instructions (SDM Vol. 2A): ANDN BEXTR BLSI BLSMSK BLSR. TZCNT, the sixth
/// member, is with BSF in Bits.cs. AF and PF are undefined after all of them and are left as they were.
/// </summary>
internal sealed class Bmi
{
    public static readonly Bmi Instance = new();

    public Exec? Bind(Op op)
    {
        if (op.I.Encoding != EncodingKind.VEX) return null;
        return op.Mnemonic switch
        {
            Mnemonic.Andn => Andn,
            Mnemonic.Bextr => Bextr,
            Mnemonic.Blsi => Blsi,
            Mnemonic.Blsmsk => Blsmsk,
            Mnemonic.Blsr => Blsr,
            _ => null,
        };
    }

    /// <summary>#UD when CPUID.(EAX=07H, ECX=0):EBX.BMI1 is 0.</summary>
    private static void Check(Cpu c, Op op)
    {
        if ((c.Profile.Cpuid(7, 0, c.Mode).Ebx & CpuProfile.Leaf7EbxBmi1) == 0)
            throw CpuFaultException.Ud($"{op.Mnemonic.ToString().ToUpperInvariant()}: CPUID.07H:EBX.BMI1 is 0 on {c.Profile.Name}");
    }

    /// <summary>Sets SF ZF CF OF as given, keeping AF and PF (undefined).</summary>
    private static void Flags(Cpu c, ulong result, int size, bool cf, bool sfDefined, bool zfDefined)
    {
        ulong f = c.ArithFlags() & (RFlags.AF | RFlags.PF);
        ulong m = Cpu.SizeMask(size);
        if (zfDefined && (result & m) == 0) f |= RFlags.ZF;
        if (sfDefined && ((result >> (size * 8 - 1)) & 1) != 0) f |= RFlags.SF;
        if (cf) f |= RFlags.CF;
        c.SetArith(f);
    }

    /// <summary>ANDN: dest = NOT src1 AND src2; SF ZF from the result, CF OF cleared.</summary>
    private void Andn(Cpu c, Op op)
    {
        Check(c, op);
        ulong r = ~c.ReadOp(op.B) & c.ReadOp(op.C) & Cpu.SizeMask(op.A.Size);
        c.WriteOp(op.A, r);
        Flags(c, r, op.A.Size, cf: false, sfDefined: true, zfDefined: true);
    }

    /// <summary>BEXTR: LEN bits of src from bit START (control bits 7:0 and 15:8), bits past the operand reading as 0; ZF from the result, CF OF cleared, SF undefined (cleared here).</summary>
    private void Bextr(Cpu c, Op op)
    {
        Check(c, op);
        ulong src = c.ReadOp(op.B), control = c.ReadOp(op.C);
        int start = (int)(control & 0xFF), len = (int)((control >> 8) & 0xFF), bits = op.A.Size * 8;
        ulong r = start >= bits ? 0 : src >> start;
        if (len < 64) r &= (1UL << len) - 1;
        c.WriteOp(op.A, r);
        Flags(c, r, op.A.Size, cf: false, sfDefined: false, zfDefined: true);
    }

    /// <summary>BLSI: the lowest set bit; CF = source is not zero; SF ZF from the result; OF cleared.</summary>
    private void Blsi(Cpu c, Op op)
    {
        Check(c, op);
        ulong s = c.ReadOp(op.B);
        ulong r = (0 - s) & s & Cpu.SizeMask(op.A.Size);
        c.WriteOp(op.A, r);
        Flags(c, r, op.A.Size, cf: s != 0, sfDefined: true, zfDefined: true);
    }

    /// <summary>BLSMSK: the mask up to and including the lowest set bit; CF = source is zero; SF from the result; ZF OF cleared.</summary>
    private void Blsmsk(Cpu c, Op op)
    {
        Check(c, op);
        ulong s = c.ReadOp(op.B);
        ulong r = ((s - 1) ^ s) & Cpu.SizeMask(op.A.Size);
        c.WriteOp(op.A, r);
        Flags(c, r, op.A.Size, cf: s == 0, sfDefined: true, zfDefined: false);
    }

    /// <summary>BLSR: the source with its lowest set bit cleared; CF = source is zero; SF ZF from the result; OF cleared.</summary>
    private void Blsr(Cpu c, Op op)
    {
        Check(c, op);
        ulong s = c.ReadOp(op.B);
        ulong r = (s - 1) & s & Cpu.SizeMask(op.A.Size);
        c.WriteOp(op.A, r);
        Flags(c, r, op.A.Size, cf: s == 0, sfDefined: true, zfDefined: true);
    }
}
