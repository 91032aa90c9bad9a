namespace SyscallTools.Core.Elf;

/// <summary>
/// Builds a SysV .hash section (gABI, "Hash Table"): nbucket, nchain, bucket[nbucket], chain[nchain], all
/// 32-bit words. nchain equals the number of symbols in .dynsym. bucket[h] holds the first symbol index whose
/// name hashes to h (mod nbucket) and chain[i] the next one after symbol i; 0 (STN_UNDEF) ends a chain.
/// </summary>
internal static class ElfHashTableBuilder
{
    /// <summary>
    /// One bucket per exported symbol (at least one), so chains average one entry. Any bucket count is
    /// correct; this one is simply deterministic and small.
    /// </summary>
    public static int BucketCount(int symbolCount) => Math.Max(1, symbolCount - 1);

    public static int Size(int symbolCount) => 4 * (2 + BucketCount(symbolCount) + symbolCount);

    /// <param name="names">The .dynsym names by symbol index; index 0 is the null symbol and is never hashed.</param>
    public static byte[] Build(IReadOnlyList<string> names)
    {
        int nbucket = BucketCount(names.Count);
        var bucket = new uint[nbucket];
        var chain = new uint[names.Count];
        // Appending at the tail keeps every chain in symbol-table order, so the table reads naturally.
        var tail = new uint[nbucket];
        for (int i = 1; i < names.Count; i++)
        {
            uint h = ElfHash.Compute(names[i]) % (uint)nbucket;
            if (bucket[h] == 0) bucket[h] = (uint)i;
            else chain[tail[h]] = (uint)i;
            tail[h] = (uint)i;
        }

        var w = new ElfImageWriter(Size(names.Count));
        w.U32(0, (uint)nbucket);
        w.U32(4, (uint)names.Count);
        for (int i = 0; i < nbucket; i++) w.U32(8 + 4 * i, bucket[i]);
        for (int i = 0; i < chain.Length; i++) w.U32(8 + 4 * (nbucket + i), chain[i]);
        return w.Bytes;
    }
}
