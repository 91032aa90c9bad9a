using System.Text;

namespace SyscallTools.Core.Elf;

/// <summary>
/// The SysV ELF hash function (gABI, "Hash Table"), used to place names in a .hash table's buckets and by a
/// dynamic loader to find them again. Each byte is shifted into the low bits; whatever reaches the top nibble
/// is folded back in at bit 4 and then cleared, so the result always fits in 28 bits.
/// </summary>
public static class ElfHash
{
    public static uint Compute(ReadOnlySpan<byte> name)
    {
        uint h = 0;
        foreach (byte c in name)
        {
            h = (h << 4) + c;
            uint top = h & 0xf000_0000;
            if (top != 0) h ^= top >> 24;
            h &= ~top;
        }
        return h;
    }

    /// <summary>Hashes the UTF-8 bytes of <paramref name="name"/>, which is how names are stored in the string table.</summary>
    public static uint Compute(string name) => Compute(Encoding.UTF8.GetBytes(name));
}
