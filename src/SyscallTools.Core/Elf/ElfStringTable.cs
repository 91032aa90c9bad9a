using System.Text;

namespace SyscallTools.Core.Elf;

/// <summary>
/// An SHT_STRTAB section read as names: a name is the bytes from an offset up to the next NUL. An offset past
/// the end, or a name with no terminating NUL, is a format error rather than a silently cut name.
/// </summary>
internal sealed class ElfStringTable(ReadOnlyMemory<byte> bytes, string description)
{
    private readonly Dictionary<ulong, string> _names = new();

    public string NameAt(ulong offset, string user)
    {
        if (_names.TryGetValue(offset, out var cached)) return cached;
        var span = bytes.Span;
        if (offset >= (ulong)span.Length)
            throw new ElfFormatException(
                $"{user}: name offset 0x{offset:x} lies outside {description} (0x{span.Length:x} bytes)");
        var rest = span[(int)offset..];
        int nul = rest.IndexOf((byte)0);
        if (nul < 0)
            throw new ElfFormatException($"{user}: name at offset 0x{offset:x} in {description} has no terminating NUL");
        // UTF8 decoding replaces invalid sequences instead of throwing, so odd bytes make an odd name, not an error.
        var name = Encoding.UTF8.GetString(rest[..nul]);
        _names[offset] = name;
        return name;
    }
}
