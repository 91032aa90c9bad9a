using System.Buffers.Binary;

namespace SyscallTools.Core.Memory;

/// <summary>
/// A sparse virtual address space of 4 KiB pages with user/supervisor, writable and no-execute bits.
/// It stands in for the page tables: translation is a lookup, and every failed check is reported with
/// the architectural #PF error code so the CPU can raise the fault.
/// </summary>
public sealed class AddressSpace
{
    // #PF error code bits (SDM Vol. 3A §4.7).
    public const uint PfPresent = 1, PfWrite = 2, PfUser = 4, PfReserved = 8, PfFetch = 16;

    private readonly Dictionary<ulong, Page> _pages = new();

    // A small direct-mapped translation cache in front of the dictionary: the hot loop touches few pages.
    private const int TlbSize = 64;
    private readonly ulong[] _tlbTag = new ulong[TlbSize];
    private readonly Page?[] _tlbPage = new Page?[TlbSize];

    /// <summary>Raised when a page that holds decoded code is written or changes mapping.</summary>
    internal Action<Page>? CodePageChanged;

    /// <summary>Raised after any change of mapping or permissions (translation caches must forget).</summary>
    internal Action? MappingChanged;

    public int PageCount => _pages.Count;

    /// <summary>Bumped by every change of mapping or permissions, so cached fetch checks know to re-check.</summary>
    public long Generation { get; private set; }

    public IEnumerable<Page> Pages => _pages.Values.OrderBy(p => p.Number);

    /// <summary>Maps [address, address+length) with the given permissions; pages already mapped keep their bytes.</summary>
    public void Map(ulong address, ulong length, PageFlags flags)
    {
        if (length == 0) return;
        ulong first = address >> Page.Shift;
        ulong last = (address + length - 1) >> Page.Shift;
        for (ulong n = first; ; n++)
        {
            if (_pages.TryGetValue(n, out var p))
            {
                p.Flags = flags;
                NotifyCode(p);
            }
            else
            {
                _pages[n] = new Page(n, flags);
            }
            FlushTlb(n);
            Generation++;
            MappingChanged?.Invoke();
            if (n == last) break;
        }
    }

    /// <summary>
    /// Maps the page at <paramref name="address"/> to the same frame as the mapped page at <paramref name="source"/>
    /// (two page-table entries, one physical page), with its own permissions.
    /// </summary>
    public void MapAlias(ulong address, ulong source, PageFlags flags)
    {
        var src = Find(source >> Page.Shift) ?? throw new InvalidOperationException($"0x{source:x} is not mapped");
        ulong n = address >> Page.Shift;
        if (_pages.TryGetValue(n, out var old))
        {
            if (ReferenceEquals(old.Data, src.Data) && old.Flags == flags) return;
            NotifyCode(old);
        }
        _pages[n] = new Page(n, flags, src);
        FlushTlb(n);
        Generation++;
        MappingChanged?.Invoke();
    }

    /// <summary>The last page of [address, address+length), clamped at the top of the address space instead of wrapping.</summary>
    private static ulong LastPage(ulong address, ulong length) =>
        (address + length - 1 < address ? ulong.MaxValue : address + length - 1) >> Page.Shift;

    /// <summary>Unmaps [address, address+length); pages not mapped are skipped. Costs the smaller of the range and the mapped pages.</summary>
    public void Unmap(ulong address, ulong length)
    {
        if (length == 0) return;
        ulong first = address >> Page.Shift;
        ulong last = LastPage(address, length);
        // A huge range (munmap of most of the address space) visits the pages that exist, not every page number in it.
        IEnumerable<ulong> numbers = last - first >= (ulong)_pages.Count
            ? _pages.Keys.Where(n => n >= first && n <= last).ToList()
            : Range(first, last);
        foreach (ulong n in numbers)
        {
            if (_pages.Remove(n, out var p)) NotifyCode(p);
            FlushTlb(n);
        }
        Generation++;
        MappingChanged?.Invoke();
    }

    private static IEnumerable<ulong> Range(ulong first, ulong last)
    {
        for (ulong n = first; ; n++)
        {
            yield return n;
            if (n == last) yield break;
        }
    }

    /// <summary>Changes permissions of mapped pages; returns false if any page in the range is unmapped.</summary>
    public bool Protect(ulong address, ulong length, PageFlags flags)
    {
        if (length == 0) return true;
        ulong first = address >> Page.Shift;
        ulong last = LastPage(address, length);
        for (ulong n = first; ; n++)
        {
            if (!_pages.ContainsKey(n)) return false;
            if (n == last) break;
        }
        for (ulong n = first; ; n++)
        {
            var p = _pages[n];
            p.Flags = flags;
            NotifyCode(p);
            FlushTlb(n);
            Generation++;
            MappingChanged?.Invoke();
            if (n == last) break;
        }
        return true;
    }

    public bool IsMapped(ulong address) => Find(address >> Page.Shift) is not null;

    public PageFlags? FlagsAt(ulong address) => Find(address >> Page.Shift)?.Flags;

    internal Page? Find(ulong number)
    {
        int slot = (int)(number & (TlbSize - 1));
        var cached = _tlbPage[slot];
        if (cached is not null && _tlbTag[slot] == number) return cached;
        if (!_pages.TryGetValue(number, out var p)) return null;
        _tlbTag[slot] = number;
        _tlbPage[slot] = p;
        return p;
    }

    private void FlushTlb(ulong number)
    {
        int slot = (int)(number & (TlbSize - 1));
        if (_tlbTag[slot] == number) _tlbPage[slot] = null;
    }

    private void NotifyCode(Page p)
    {
        if (p.HoldsCode) CodePageChanged?.Invoke(p);
    }

    /// <summary>
    /// Translates one linear address for an access by the CPU. Returns 0 and the page, or the #PF error
    /// code (never 0 on failure: bit 0 clear means not present, so the code is ORed with a marker bit 31
    /// that the caller strips).
    /// </summary>
    internal uint Check(ulong linear, AccessKind kind, bool user, in PagingPolicy policy, out Page? page)
    {
        page = Find(linear >> Page.Shift);
        uint code = (kind == AccessKind.Write ? PfWrite : 0) | (user ? PfUser : 0)
                    | (kind == AccessKind.Execute && (policy.Nxe || policy.Smep) ? PfFetch : 0);
        if (page is null) return code | Failed;
        var f = page.Flags;
        if (user)
        {
            if ((f & PageFlags.User) == 0) return code | PfPresent | Failed;
            if (kind == AccessKind.Write && (f & PageFlags.Writable) == 0) return code | PfPresent | Failed;
        }
        else
        {
            bool userPage = (f & PageFlags.User) != 0;
            if (userPage && kind == AccessKind.Execute && policy.Smep) return code | PfPresent | Failed;
            if (userPage && kind != AccessKind.Execute && policy.Smap && !policy.Ac) return code | PfPresent | Failed;
            // Supervisor writes honour R/W only with CR0.WP, which Linux always sets.
            if (kind == AccessKind.Write && (f & PageFlags.Writable) == 0 && policy.Wp) return code | PfPresent | Failed;
        }
        if (kind == AccessKind.Execute && policy.Nxe && (f & PageFlags.NoExecute) != 0) return code | PfPresent | Failed;
        return 0;
    }

    /// <summary>Marks the failure of <see cref="Check"/> apart from a zero error code.</summary>
    internal const uint Failed = 0x8000_0000;

    internal void NoteWrite(Page p)
    {
        if (p.HoldsCode) CodePageChanged?.Invoke(p);
    }

    // ---- Raw access: no permission checks. For loaders, the kernel model and tests; never for emulated code. ----

    public void WriteBytes(ulong address, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            var p = Find(address >> Page.Shift) ?? throw new InvalidOperationException($"Address 0x{address:x} is not mapped.");
            int off = (int)(address & Page.OffsetMask);
            int n = Math.Min(Page.Size - off, data.Length);
            data[..n].CopyTo(p.Data.AsSpan(off, n));
            NoteWrite(p);
            data = data[n..];
            address += (ulong)n;
        }
    }

    public byte[] ReadBytes(ulong address, int length)
    {
        var result = new byte[length];
        if (!TryReadBytes(address, result)) throw new InvalidOperationException($"Address range at 0x{address:x} is not mapped.");
        return result;
    }

    public bool TryReadBytes(ulong address, Span<byte> into)
    {
        while (!into.IsEmpty)
        {
            var p = Find(address >> Page.Shift);
            if (p is null) return false;
            int off = (int)(address & Page.OffsetMask);
            int n = Math.Min(Page.Size - off, into.Length);
            p.Data.AsSpan(off, n).CopyTo(into);
            into = into[n..];
            address += (ulong)n;
        }
        return true;
    }

    public ulong ReadUInt64(ulong address)
    {
        int off = (int)(address & Page.OffsetMask);
        if (off <= Page.Size - 8 && Find(address >> Page.Shift) is { } page)
            return BinaryPrimitives.ReadUInt64LittleEndian(page.Data.AsSpan(off));
        Span<byte> b = stackalloc byte[8];
        if (!TryReadBytes(address, b)) throw new InvalidOperationException($"Address 0x{address:x} is not mapped.");
        return BinaryPrimitives.ReadUInt64LittleEndian(b);
    }

    public uint ReadUInt32(ulong address)
    {
        int off = (int)(address & Page.OffsetMask);
        if (off <= Page.Size - 4 && Find(address >> Page.Shift) is { } page)
            return BinaryPrimitives.ReadUInt32LittleEndian(page.Data.AsSpan(off));
        Span<byte> b = stackalloc byte[4];
        if (!TryReadBytes(address, b)) throw new InvalidOperationException($"Address 0x{address:x} is not mapped.");
        return BinaryPrimitives.ReadUInt32LittleEndian(b);
    }

    public void WriteUInt64(ulong address, ulong value)
    {
        int off = (int)(address & Page.OffsetMask);
        if (off <= Page.Size - 8 && Find(address >> Page.Shift) is { } page)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(page.Data.AsSpan(off), value);
            NoteWrite(page);
            return;
        }
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        WriteBytes(address, b);
    }

    public void WriteUInt32(ulong address, uint value)
    {
        int off = (int)(address & Page.OffsetMask);
        if (off <= Page.Size - 4 && Find(address >> Page.Shift) is { } page)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(page.Data.AsSpan(off), value);
            NoteWrite(page);
            return;
        }
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        WriteBytes(address, b);
    }

    public void WriteUInt16(ulong address, ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        WriteBytes(address, b);
    }
}

/// <summary>The control-register bits that change how a translation is checked.</summary>
internal readonly record struct PagingPolicy(bool Nxe, bool Smep, bool Smap, bool Ac, bool Wp);
