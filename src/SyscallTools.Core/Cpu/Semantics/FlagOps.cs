using Iced.Intel;
using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu.Semantics;

/// <summary>CLC STC CMC CLD STD CLI STI LAHF SAHF CLAC STAC.</summary>
internal sealed class FlagOps
{
    /// <summary>Handlers are instance methods: delegates to them are called without the static-delegate thunk.</summary>
    public static readonly FlagOps Instance = new();

    public Exec? Bind(Op op) => op.Mnemonic switch
    {
        Mnemonic.Clc => static (c, _) => c.SetArithBit(RFlags.CF, false),
        Mnemonic.Stc => static (c, _) => c.SetArithBit(RFlags.CF, true),
        Mnemonic.Cmc => static (c, _) => c.SetArithBit(RFlags.CF, !c.GetCF()),
        Mnemonic.Cld => static (c, _) => c.FlagsRest &= ~RFlags.DF,
        Mnemonic.Std => static (c, _) => c.FlagsRest |= RFlags.DF,
        Mnemonic.Cli => Cli,
        Mnemonic.Sti => Sti,
        Mnemonic.Lahf => Lahf,
        Mnemonic.Sahf => Sahf,
        Mnemonic.Clac => static (c, _) => { RequireRing0Ud(c, "CLAC"); c.SetFlagsRest(c.FlagsRest & ~RFlags.AC); },
        Mnemonic.Stac => static (c, _) => { RequireRing0Ud(c, "STAC"); c.SetFlagsRest(c.FlagsRest | RFlags.AC); },
        _ => null,
    };

    private static void RequireRing0Ud(Cpu c, string name)
    {
        if (c.Cpl != 0) throw CpuFaultException.Ud($"{name} at CPL {c.Cpl}");
    }

    /// <summary>CLI/STI need CPL ≤ IOPL in protected mode (VME/PVI are not modelled).</summary>
    private static void CheckIopl(Cpu c, string name)
    {
        if (c.Cpl > RFlags.Iopl(c.FlagsRest)) throw CpuFaultException.Gp(0, $"{name} at CPL {c.Cpl} > IOPL {RFlags.Iopl(c.FlagsRest)}");
    }

    private void Cli(Cpu c, Op op)
    {
        CheckIopl(c, "CLI");
        c.SetFlagsRest(c.FlagsRest & ~RFlags.IF);
    }

    private void Sti(Cpu c, Op op)
    {
        CheckIopl(c, "STI");
        // Interrupts stay blocked until after the next instruction when STI sets IF (the `sti; sysexit` idiom).
        if ((c.FlagsRest & RFlags.IF) == 0) c.Shadow = Cpu.ShadowSti;
        c.SetFlagsRest(c.FlagsRest | RFlags.IF);
    }

    private void Lahf(Cpu c, Op op)
    {
        ulong f = c.Rflags & (RFlags.SF | RFlags.ZF | RFlags.AF | RFlags.PF | RFlags.CF) | RFlags.Fixed;
        c.R[0] = (c.R[0] & ~0xFF00UL) | (f << 8);
    }

    private void Sahf(Cpu c, Op op)
    {
        ulong ah = (c.R[0] >> 8) & (RFlags.SF | RFlags.ZF | RFlags.AF | RFlags.PF | RFlags.CF);
        ulong f = c.ArithFlags() & RFlags.OF;
        c.SetArith(f | ah);
    }
}
