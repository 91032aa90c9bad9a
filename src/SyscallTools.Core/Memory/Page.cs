namespace SyscallTools.Core.Memory;

/// <summary>One mapped 4 KiB page: its bytes, its permissions, and the decoded code that depends on it.</summary>
public sealed class Page
{
    public const int Size = 4096;
    public const int Shift = 12;
    public const ulong OffsetMask = Size - 1;

    internal Page(ulong number, PageFlags flags)
    {
        Number = number;
        Flags = flags;
    }

    /// <summary>A second mapping of <paramref name="source"/>'s frame: same bytes, its own permissions.</summary>
    internal Page(ulong number, PageFlags flags, Page source)
    {
        Number = number;
        Flags = flags;
        _data = source.Data;
    }

    /// <summary>The virtual page number (address >> 12).</summary>
    public ulong Number { get; }

    public PageFlags Flags { get; internal set; }

    /// <summary>
    /// The page's bytes, allocated when first touched: a machine maps ~90 pages at boot (stacks, tables, the vDSO) and
    /// leaves many of them untouched, and zeroing and collecting them was most of what a new machine cost.
    /// </summary>
    internal byte[] Data => _data ??= new byte[Size];

    private byte[]? _data;

    /// <summary>The bytes if allocated (the DTLB allocates them before it caches a page, so its hits read this).</summary>
    internal byte[]? Bytes => _data;

    /// <summary>
    /// Set while decoded blocks cache instructions from this page, so that a write to it (alternatives
    /// patching, self-modifying code) drops them.
    /// </summary>
    internal bool HoldsCode;
}
