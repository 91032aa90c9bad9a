namespace SyscallTools.Core.Elf.Cfi;

/// <summary>One frame unwound: the rules used, the CFA, and the caller's registers (by DWARF number, eax..eip).</summary>
public sealed record UnwindResult(ulong Pc, CfiFde Fde, CfiRow Row, uint Cfa, uint ReturnAddress, IReadOnlyList<uint?> Registers)
{
    /// <summary>The caller's value of a register (eax=0 … edi=7; esp is the CFA), null when the CFI leaves it undefined.</summary>
    public uint? this[int dwarfRegister] => Registers[dwarfRegister];
}

/// <summary>Unwinds one i386 frame with an image's .eh_frame, as libgcc's uw_frame_state_for + uw_update_context do.</summary>
public static class CfiUnwinder
{
    /// <summary>
    /// Unwinds the frame executing at <paramref name="pc"/> with <paramref name="registers"/> (eax..edi, eip by DWARF
    /// number; at least 8 entries) and memory read 32 bits at a time through <paramref name="readMemory"/> (null =
    /// unreadable). Returns the caller's return address, CFA (its esp) and registers.
    /// </summary>
    /// <exception cref="CfiUnwindException">No FDE covers pc, memory cannot be read, or the return address is undefined.</exception>
    public static UnwindResult Unwind(EhFrame frame, ulong pc, IReadOnlyList<uint> registers, Func<uint, uint?> readMemory)
    {
        var fde = frame.FindFde(pc) ?? throw new CfiUnwindException($"no FDE covers 0x{pc:x}");
        var row = fde.RowAt(pc)!;
        uint Reg(int r) => r < registers.Count ? registers[r] : throw new CfiUnwindException($"register {Dwarf.RegisterName(r)} has no value");
        uint Read(uint a) => readMemory(a) ?? throw new CfiUnwindException($"0x{a:x8} cannot be read");

        uint cfa = row.Cfa.Kind == CfaRuleKind.RegisterOffset
            ? (uint)(Reg(row.Cfa.Register) + row.Cfa.Offset)
            : DwarfExpression.Evaluate(row.Cfa.Expression, Reg, readMemory);
        uint? Recover(int r)
        {
            var rule = row.Rule(r);
            return rule.Kind switch
            {
                RegisterRuleKind.Undefined => null,
                RegisterRuleKind.SameValue => r < registers.Count ? registers[r] : null,
                RegisterRuleKind.Offset => Read((uint)(cfa + rule.Offset)),
                RegisterRuleKind.ValOffset => (uint)(cfa + rule.Offset),
                RegisterRuleKind.Register => Reg(rule.Register),
                RegisterRuleKind.Expression => Read(DwarfExpression.Evaluate(rule.Expression, Reg, readMemory, cfa)),
                _ => DwarfExpression.Evaluate(rule.Expression, Reg, readMemory, cfa),
            };
        }
        var caller = new uint?[9];
        for (int r = 0; r < caller.Length; r++) caller[r] = Recover(r);
        caller[Dwarf.Esp] = cfa; // the CFA is by definition the caller's stack pointer
        uint ra = Recover(fde.Cie.ReturnAddressRegister) ?? throw new CfiUnwindException($"the return address is undefined at 0x{pc:x}");
        caller[Dwarf.Eip] = ra;
        return new UnwindResult(pc, fde, row, cfa, ra, caller);
    }
}
