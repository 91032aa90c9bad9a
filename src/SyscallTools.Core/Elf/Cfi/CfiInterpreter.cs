namespace SyscallTools.Core.Elf.Cfi;

/// <summary>Executes call frame instructions (DWARF 4 §6.4.2) into the rows of a CFI table.</summary>
internal static class CfiInterpreter
{
    /// <summary>
    /// Runs <paramref name="instructions"/> from <paramref name="start"/>; <paramref name="initial"/> is the CIE's
    /// row (for DW_CFA_restore), null while running the CIE itself. Returns at least one row.
    /// </summary>
    public static List<CfiRow> Run(CfiCie cie, CfiRow? initial, byte[] instructions, ulong start, ulong end, string what)
    {
        var rows = new List<CfiRow>();
        var cfa = initial?.Cfa ?? CfaRule.At(Dwarf.Esp, 4);
        var regs = new Dictionary<int, RegisterRule>(initial?.Registers ?? new Dictionary<int, RegisterRule>());
        var stack = new Stack<(CfaRule, Dictionary<int, RegisterRule>)>();
        ulong loc = start;
        var c = new DwarfCursor(instructions, $"the CFA instructions of the {what}");

        void Advance(ulong delta)
        {
            ulong next = loc + delta * cie.CodeAlignment;
            if (next > loc && initial is not null) rows.Add(new CfiRow(loc, Math.Min(next, end), cfa, new Dictionary<int, RegisterRule>(regs)));
            loc = next;
        }
        void Restore(int reg)
        {
            if (initial is null) throw new ElfFormatException($"{what}: DW_CFA_restore is not allowed in a CIE");
            if (initial.Registers.TryGetValue(reg, out var r)) regs[reg] = r; else regs.Remove(reg);
        }
        long Factored(long n) => n * cie.DataAlignment;
        int Reg(ulong n) => n > 64 ? throw new ElfFormatException($"{what}: register {n} is not an i386 register") : (int)n;

        while (!c.AtEnd)
        {
            byte op = c.U8();
            switch (op & 0xc0)
            {
                case Dwarf.DW_CFA_advance_loc: Advance((ulong)(op & 0x3f)); continue;
                case Dwarf.DW_CFA_offset: regs[op & 0x3f] = new RegisterRule(RegisterRuleKind.Offset, Factored((long)c.Uleb())); continue;
                case Dwarf.DW_CFA_restore: Restore(op & 0x3f); continue;
            }
            switch (op)
            {
                case Dwarf.DW_CFA_nop: break;
                case Dwarf.DW_CFA_set_loc:
                    {
                        ulong to = c.Pointer((byte)(cie.FdeEncoding & 0x0f), 0);
                        if (to < loc) throw new ElfFormatException($"{what}: DW_CFA_set_loc goes backwards to 0x{to:x}");
                        Advance((to - loc) / Math.Max(1, cie.CodeAlignment));
                        break;
                    }
                case Dwarf.DW_CFA_advance_loc1: Advance(c.U8()); break;
                case Dwarf.DW_CFA_advance_loc2: Advance(c.U16()); break;
                case Dwarf.DW_CFA_advance_loc4: Advance(c.U32()); break;
                case Dwarf.DW_CFA_offset_extended: { int r = Reg(c.Uleb()); regs[r] = new RegisterRule(RegisterRuleKind.Offset, Factored((long)c.Uleb())); break; }
                case Dwarf.DW_CFA_offset_extended_sf: { int r = Reg(c.Uleb()); regs[r] = new RegisterRule(RegisterRuleKind.Offset, Factored(c.Sleb())); break; }
                case Dwarf.DW_CFA_val_offset: { int r = Reg(c.Uleb()); regs[r] = new RegisterRule(RegisterRuleKind.ValOffset, Factored((long)c.Uleb())); break; }
                case Dwarf.DW_CFA_val_offset_sf: { int r = Reg(c.Uleb()); regs[r] = new RegisterRule(RegisterRuleKind.ValOffset, Factored(c.Sleb())); break; }
                case Dwarf.DW_CFA_restore_extended: Restore(Reg(c.Uleb())); break;
                case Dwarf.DW_CFA_undefined: regs[Reg(c.Uleb())] = RegisterRule.Undefined; break;
                case Dwarf.DW_CFA_same_value: regs[Reg(c.Uleb())] = RegisterRule.SameValue; break;
                case Dwarf.DW_CFA_register: { int r = Reg(c.Uleb()); regs[r] = new RegisterRule(RegisterRuleKind.Register, Register: Reg(c.Uleb())); break; }
                case Dwarf.DW_CFA_remember_state: stack.Push((cfa, new Dictionary<int, RegisterRule>(regs))); break;
                case Dwarf.DW_CFA_restore_state:
                    if (stack.Count == 0) throw new ElfFormatException($"{what}: DW_CFA_restore_state without a remembered state");
                    (cfa, regs) = stack.Pop();
                    break;
                case Dwarf.DW_CFA_def_cfa: { int r = Reg(c.Uleb()); cfa = CfaRule.At(r, (long)c.Uleb()); break; }
                case Dwarf.DW_CFA_def_cfa_sf: { int r = Reg(c.Uleb()); cfa = CfaRule.At(r, Factored(c.Sleb())); break; }
                case Dwarf.DW_CFA_def_cfa_register:
                    cfa = cfa.Kind == CfaRuleKind.RegisterOffset ? cfa with { Register = Reg(c.Uleb()) }
                        : throw new ElfFormatException($"{what}: DW_CFA_def_cfa_register while the CFA is an expression");
                    break;
                case Dwarf.DW_CFA_def_cfa_offset:
                    cfa = cfa.Kind == CfaRuleKind.RegisterOffset ? cfa with { Offset = (long)c.Uleb() }
                        : throw new ElfFormatException($"{what}: DW_CFA_def_cfa_offset while the CFA is an expression");
                    break;
                case Dwarf.DW_CFA_def_cfa_offset_sf:
                    cfa = cfa.Kind == CfaRuleKind.RegisterOffset ? cfa with { Offset = Factored(c.Sleb()) }
                        : throw new ElfFormatException($"{what}: DW_CFA_def_cfa_offset_sf while the CFA is an expression");
                    break;
                case Dwarf.DW_CFA_def_cfa_expression:
                    cfa = new CfaRule(CfaRuleKind.Expression, 0, 0, c.Bytes(c.Uleb()).ToArray());
                    break;
                case Dwarf.DW_CFA_expression: { int r = Reg(c.Uleb()); regs[r] = new RegisterRule(RegisterRuleKind.Expression, Expression: c.Bytes(c.Uleb()).ToArray()); break; }
                case Dwarf.DW_CFA_val_expression: { int r = Reg(c.Uleb()); regs[r] = new RegisterRule(RegisterRuleKind.ValExpression, Expression: c.Bytes(c.Uleb()).ToArray()); break; }
                case Dwarf.DW_CFA_GNU_args_size: c.Uleb(); break;
                default: throw new ElfFormatException($"{what}: call frame instruction 0x{op:x2} at 0x{c.Position - 1:x} is not supported");
            }
        }
        if (initial is null || loc < end)
            rows.Add(new CfiRow(loc, initial is null ? loc : end, cfa, new Dictionary<int, RegisterRule>(regs)));
        // Rows that start at or past the end of the FDE (an advance beyond its range) are dropped.
        if (initial is not null) rows.RemoveAll(r => r.Start >= end);
        if (rows.Count == 0) rows.Add(new CfiRow(start, end, cfa, new Dictionary<int, RegisterRule>(regs)));
        return rows;
    }
}
