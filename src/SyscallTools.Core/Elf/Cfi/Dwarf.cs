namespace SyscallTools.Core.Elf.Cfi;

/// <summary>The DWARF constants .eh_frame uses on i386 (DWARF 4 §6.4.2, §2.5; LSB "Exception Frames").</summary>
public static class Dwarf
{
    // Call frame instructions: the high two bits select the three "primary" ones, whose operand is in the low six.
    public const byte DW_CFA_advance_loc = 0x40, DW_CFA_offset = 0x80, DW_CFA_restore = 0xc0;
    public const byte DW_CFA_nop = 0x00, DW_CFA_set_loc = 0x01, DW_CFA_advance_loc1 = 0x02, DW_CFA_advance_loc2 = 0x03,
        DW_CFA_advance_loc4 = 0x04, DW_CFA_offset_extended = 0x05, DW_CFA_restore_extended = 0x06, DW_CFA_undefined = 0x07,
        DW_CFA_same_value = 0x08, DW_CFA_register = 0x09, DW_CFA_remember_state = 0x0a, DW_CFA_restore_state = 0x0b,
        DW_CFA_def_cfa = 0x0c, DW_CFA_def_cfa_register = 0x0d, DW_CFA_def_cfa_offset = 0x0e, DW_CFA_def_cfa_expression = 0x0f,
        DW_CFA_expression = 0x10, DW_CFA_offset_extended_sf = 0x11, DW_CFA_def_cfa_sf = 0x12, DW_CFA_def_cfa_offset_sf = 0x13,
        DW_CFA_val_offset = 0x14, DW_CFA_val_offset_sf = 0x15, DW_CFA_val_expression = 0x16, DW_CFA_GNU_args_size = 0x2e;

    // Pointer encodings (LSB 4.1 §10.5): the low nibble is the format, the high the application.
    public const byte DW_EH_PE_absptr = 0x00, DW_EH_PE_uleb128 = 0x01, DW_EH_PE_udata2 = 0x02, DW_EH_PE_udata4 = 0x03,
        DW_EH_PE_udata8 = 0x04, DW_EH_PE_sleb128 = 0x09, DW_EH_PE_sdata2 = 0x0a, DW_EH_PE_sdata4 = 0x0b, DW_EH_PE_sdata8 = 0x0c,
        DW_EH_PE_pcrel = 0x10, DW_EH_PE_textrel = 0x20, DW_EH_PE_datarel = 0x30, DW_EH_PE_funcrel = 0x40,
        DW_EH_PE_aligned = 0x50, DW_EH_PE_indirect = 0x80, DW_EH_PE_omit = 0xff;

    // The expression operations the vDSO's signal-frame rules (and small hand-written ones) use.
    public const byte DW_OP_addr = 0x03, DW_OP_deref = 0x06, DW_OP_const1u = 0x08, DW_OP_const1s = 0x09, DW_OP_const2u = 0x0a,
        DW_OP_const2s = 0x0b, DW_OP_const4u = 0x0c, DW_OP_const4s = 0x0d, DW_OP_constu = 0x10, DW_OP_consts = 0x11,
        DW_OP_dup = 0x12, DW_OP_drop = 0x13, DW_OP_over = 0x14, DW_OP_swap = 0x16, DW_OP_and = 0x1a, DW_OP_minus = 0x1c,
        DW_OP_or = 0x21, DW_OP_plus = 0x22, DW_OP_plus_uconst = 0x23, DW_OP_lit0 = 0x30, DW_OP_lit31 = 0x4f,
        DW_OP_reg0 = 0x50, DW_OP_breg0 = 0x70, DW_OP_breg31 = 0x8f, DW_OP_bregx = 0x92, DW_OP_nop = 0x96;

    /// <summary>i386 DWARF register numbers (SysV i386 psABI): eax ecx edx ebx esp ebp esi edi, then eip = 8.</summary>
    public const int Eax = 0, Ecx = 1, Edx = 2, Ebx = 3, Esp = 4, Ebp = 5, Esi = 6, Edi = 7, Eip = 8;

    public static readonly string[] I386RegisterNames = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip"];

    /// <summary>"ebp" for 5, "r42" for a number outside eax..eip.</summary>
    public static string RegisterName(int dwarfRegister) =>
        dwarfRegister >= 0 && dwarfRegister < I386RegisterNames.Length ? I386RegisterNames[dwarfRegister] : $"r{dwarfRegister}";
}
