using System.Buffers.Binary;

namespace SyscallTools.Core.Elf;

/// <summary>
/// The bytes being read, with the one bounds check every offset and size goes through. Offsets and sizes
/// come straight from the file, so they are taken as 64-bit values and compared without overflow; nothing
/// is sliced until the range is known to lie inside the file.
/// </summary>
internal readonly struct ElfInput(byte[] bytes)
{
    public byte[] Bytes { get; } = bytes;
    public int Length => Bytes.Length;

    /// <summary>True when [offset, offset + size) lies inside the file.</summary>
    public bool Contains(ulong offset, ulong size) => offset <= (ulong)Bytes.Length && size <= (ulong)Bytes.Length - offset;

    /// <summary>The range [offset, offset + size), or an <see cref="ElfFormatException"/> naming <paramref name="what"/>.</summary>
    public ReadOnlyMemory<byte> Slice(ulong offset, ulong size, string what)
    {
        if (!Contains(offset, size))
            throw new ElfFormatException(
                $"{what} lies outside the file (offset 0x{offset:x}, size 0x{size:x}, file is 0x{Bytes.Length:x} bytes)");
        return new ReadOnlyMemory<byte>(Bytes, (int)offset, (int)size);
    }

    /// <summary>The extent of a table of <paramref name="count"/> entries of <paramref name="entrySize"/> bytes.</summary>
    public ReadOnlyMemory<byte> Table(ulong offset, ulong count, ulong entrySize, string what)
    {
        if (entrySize != 0 && count > ulong.MaxValue / entrySize)
            throw new ElfFormatException($"{what} is impossibly large ({count} entries of {entrySize} bytes)");
        return Slice(offset, count * entrySize, what);
    }

    public static ushort U16(ReadOnlySpan<byte> s, int at) => BinaryPrimitives.ReadUInt16LittleEndian(s[at..]);
    public static uint U32(ReadOnlySpan<byte> s, int at) => BinaryPrimitives.ReadUInt32LittleEndian(s[at..]);
    public static ulong U64(ReadOnlySpan<byte> s, int at) => BinaryPrimitives.ReadUInt64LittleEndian(s[at..]);
    public static int I32(ReadOnlySpan<byte> s, int at) => BinaryPrimitives.ReadInt32LittleEndian(s[at..]);
    public static long I64(ReadOnlySpan<byte> s, int at) => BinaryPrimitives.ReadInt64LittleEndian(s[at..]);
}
