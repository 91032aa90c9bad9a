namespace SyscallTools.Core.Elf.Cfi;

/// <summary>
/// A small DWARF expression evaluator (DWARF 4 §2.5) for CFI rules: literals and constants, DW_OP_breg/bregx,
/// DW_OP_deref, DW_OP_plus_uconst and the stack and arithmetic operations a hand-written signal-frame rule uses.
/// 32-bit: every value is an i386 address.
/// </summary>
public static class DwarfExpression
{
    /// <summary>
    /// Evaluates <paramref name="expression"/> and returns the top of the stack. <paramref name="register"/> gives
    /// a DWARF register's value; <paramref name="readMemory"/> a 32-bit word (null when unreadable). For
    /// DW_CFA_expression rules <paramref name="initial"/> (the CFA) is pushed first, as DWARF requires.
    /// </summary>
    /// <exception cref="CfiUnwindException">An unsupported operation, a stack underflow, unreadable memory.</exception>
    public static uint Evaluate(ReadOnlySpan<byte> expression, Func<int, uint> register, Func<uint, uint?> readMemory, uint? initial = null)
    {
        var stack = new Stack<uint>();
        if (initial is uint i) stack.Push(i);
        var c = new DwarfCursor(expression, "a DWARF expression");
        uint Pop() => stack.Count > 0 ? stack.Pop() : throw new CfiUnwindException("DWARF expression stack underflow");
        try
        {
            while (!c.AtEnd)
            {
                byte op = c.U8();
                if (op >= Dwarf.DW_OP_lit0 && op <= Dwarf.DW_OP_lit31) { stack.Push((uint)(op - Dwarf.DW_OP_lit0)); continue; }
                if (op >= Dwarf.DW_OP_breg0 && op <= Dwarf.DW_OP_breg31) { stack.Push((uint)(register(op - Dwarf.DW_OP_breg0) + c.Sleb())); continue; }
                switch (op)
                {
                    case Dwarf.DW_OP_addr: stack.Push(c.U32()); break;
                    case Dwarf.DW_OP_bregx: { int r = (int)c.Uleb(); stack.Push((uint)(register(r) + c.Sleb())); break; }
                    case Dwarf.DW_OP_deref:
                        {
                            uint a = Pop();
                            stack.Push(readMemory(a) ?? throw new CfiUnwindException($"DW_OP_deref: 0x{a:x8} cannot be read"));
                            break;
                        }
                    case Dwarf.DW_OP_const1u: stack.Push(c.U8()); break;
                    case Dwarf.DW_OP_const1s: stack.Push((uint)(sbyte)c.U8()); break;
                    case Dwarf.DW_OP_const2u: stack.Push(c.U16()); break;
                    case Dwarf.DW_OP_const2s: stack.Push((uint)(short)c.U16()); break;
                    case Dwarf.DW_OP_const4u: case Dwarf.DW_OP_const4s: stack.Push(c.U32()); break;
                    case Dwarf.DW_OP_constu: stack.Push((uint)c.Uleb()); break;
                    case Dwarf.DW_OP_consts: stack.Push((uint)c.Sleb()); break;
                    case Dwarf.DW_OP_dup: { uint a = Pop(); stack.Push(a); stack.Push(a); break; }
                    case Dwarf.DW_OP_drop: Pop(); break;
                    case Dwarf.DW_OP_over: { uint a = Pop(), b = Pop(); stack.Push(b); stack.Push(a); stack.Push(b); break; }
                    case Dwarf.DW_OP_swap: { uint a = Pop(), b = Pop(); stack.Push(a); stack.Push(b); break; }
                    case Dwarf.DW_OP_and: stack.Push(Pop() & Pop()); break;
                    case Dwarf.DW_OP_or: stack.Push(Pop() | Pop()); break;
                    case Dwarf.DW_OP_plus: stack.Push(Pop() + Pop()); break;
                    case Dwarf.DW_OP_minus: { uint a = Pop(), b = Pop(); stack.Push(b - a); break; }
                    case Dwarf.DW_OP_plus_uconst: stack.Push(Pop() + (uint)c.Uleb()); break;
                    case Dwarf.DW_OP_nop: break;
                    default: throw new CfiUnwindException($"DWARF operation 0x{op:x2} is not supported");
                }
            }
        }
        catch (ElfFormatException e) { throw new CfiUnwindException(e.Message); }
        return stack.Count > 0 ? stack.Peek() : throw new CfiUnwindException("a DWARF expression left nothing on the stack");
    }
}

/// <summary>An unwind step that cannot be done: no FDE, unreadable memory, an undefined return address…</summary>
public sealed class CfiUnwindException(string message) : Exception(message);
