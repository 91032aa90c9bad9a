using System.Text;

namespace SyscallTools.Core.Elf;

/// <summary>
/// Builds an SHT_STRTAB: a NUL byte, then each distinct name once, NUL-terminated, in the order first added.
/// Offset 0 is the empty name.
/// </summary>
internal sealed class ElfStringTableBuilder
{
    private readonly List<byte> _bytes = [0];
    private readonly Dictionary<string, int> _offsets = new(StringComparer.Ordinal) { [""] = 0 };

    public int Add(string name)
    {
        if (_offsets.TryGetValue(name, out int existing)) return existing;
        int offset = _bytes.Count;
        _bytes.AddRange(Encoding.UTF8.GetBytes(name));
        _bytes.Add(0);
        _offsets[name] = offset;
        return offset;
    }

    public int OffsetOf(string name) => _offsets[name];
    public int Size => _bytes.Count;
    public byte[] ToArray() => _bytes.ToArray();
}
