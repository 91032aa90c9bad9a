using System.Buffers.Binary;

namespace SyscallTools.Core.Elf.Cfi;

/// <summary>A bounds-checked reader over CFI bytes: every read past the end is an <see cref="ElfFormatException"/>.</summary>
internal ref struct DwarfCursor(ReadOnlySpan<byte> bytes, string what)
{
    private readonly ReadOnlySpan<byte> _bytes = bytes;
    private readonly string _what = what;
    public int Position;
    public readonly int Length => _bytes.Length;
    public readonly bool AtEnd => Position >= _bytes.Length;

    private readonly void Need(int n)
    {
        if (n < 0 || Position > _bytes.Length - n)
            throw new ElfFormatException($"{_what} is truncated: {n} more byte(s) needed at offset 0x{Position:x} of 0x{_bytes.Length:x}");
    }

    public byte U8() { Need(1); return _bytes[Position++]; }
    public ushort U16() { Need(2); var v = BinaryPrimitives.ReadUInt16LittleEndian(_bytes[Position..]); Position += 2; return v; }
    public uint U32() { Need(4); var v = BinaryPrimitives.ReadUInt32LittleEndian(_bytes[Position..]); Position += 4; return v; }
    public ulong U64() { Need(8); var v = BinaryPrimitives.ReadUInt64LittleEndian(_bytes[Position..]); Position += 8; return v; }
    public ReadOnlySpan<byte> Bytes(ulong n)
    {
        if (n > int.MaxValue) Need(int.MaxValue);
        Need((int)n);
        var s = _bytes.Slice(Position, (int)n);
        Position += (int)n;
        return s;
    }

    public ulong Uleb()
    {
        ulong result = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = U8();
            if (shift < 64) result |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return result;
            if (shift > 70) throw new ElfFormatException($"{_what}: a LEB128 number at 0x{Position:x} is too long");
        }
    }

    public long Sleb()
    {
        long result = 0;
        int shift = 0;
        byte b;
        do
        {
            b = U8();
            if (shift < 64) result |= (long)(b & 0x7f) << shift;
            shift += 7;
            if (shift > 77) throw new ElfFormatException($"{_what}: a LEB128 number at 0x{Position:x} is too long");
        } while ((b & 0x80) != 0);
        if (shift < 64 && (b & 0x40) != 0) result |= -1L << shift;
        return result;
    }

    public string CString()
    {
        int end = _bytes[Position..].IndexOf((byte)0);
        if (end < 0) throw new ElfFormatException($"{_what}: a string at 0x{Position:x} has no terminating NUL");
        var s = System.Text.Encoding.ASCII.GetString(_bytes.Slice(Position, end));
        Position += end + 1;
        return s;
    }

    /// <summary>
    /// A pointer in <paramref name="encoding"/>; <paramref name="fieldAddress"/> is the address the field sits at
    /// (for pcrel), <paramref name="dataBase"/> the base for datarel (.eh_frame_hdr's own address).
    /// </summary>
    public ulong Pointer(byte encoding, ulong fieldAddress, ulong dataBase = 0)
    {
        if (encoding == Dwarf.DW_EH_PE_omit) return 0;
        long value = (encoding & 0x0f) switch
        {
            Dwarf.DW_EH_PE_absptr => U32(),
            Dwarf.DW_EH_PE_uleb128 => (long)Uleb(),
            Dwarf.DW_EH_PE_udata2 => U16(),
            Dwarf.DW_EH_PE_udata4 => U32(),
            Dwarf.DW_EH_PE_udata8 => (long)U64(),
            Dwarf.DW_EH_PE_sleb128 => Sleb(),
            Dwarf.DW_EH_PE_sdata2 => (short)U16(),
            Dwarf.DW_EH_PE_sdata4 => (int)U32(),
            Dwarf.DW_EH_PE_sdata8 => (long)U64(),
            var f => throw new ElfFormatException($"{_what}: pointer encoding 0x{encoding:x2} has unknown format 0x{f:x}"),
        };
        ulong b = (encoding & 0x70) switch
        {
            0 => 0,
            Dwarf.DW_EH_PE_pcrel => fieldAddress,
            Dwarf.DW_EH_PE_datarel => dataBase,
            var a => throw new ElfFormatException($"{_what}: pointer encoding 0x{encoding:x2} uses application 0x{a:x2}, which is not supported"),
        };
        if ((encoding & Dwarf.DW_EH_PE_indirect) != 0)
            throw new ElfFormatException($"{_what}: indirect pointer encoding 0x{encoding:x2} is not supported");
        // i386: addresses are 32 bits and wrap.
        return (uint)(b + (ulong)value);
    }
}
