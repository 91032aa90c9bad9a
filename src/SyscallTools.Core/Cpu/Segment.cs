namespace SyscallTools.Core.Cpu;

/// <summary>
/// A segment register: the visible selector and the hidden descriptor cache the CPU really uses.
/// SYSCALL/SYSENTER write the cache with fixed values without reading the GDT; the AMD SYSRET quirk
/// leaves stale SS attributes here, which is why the cache is modelled and not recomputed.
/// </summary>
public struct Segment
{
    public ushort Selector;
    public ulong Base;
    public uint Limit;       // byte-granular limit after G scaling
    public byte Type;        // descriptor type field (4 bits)
    public bool S;           // code/data (true) or system (false)
    public byte Dpl;
    public bool Present;
    public bool L;           // 64-bit code
    public bool D;           // default operand size 32 (code) / big (stack)
    public bool G;
    /// <summary>A null selector was loaded: using the segment faults (the cache is "unusable").</summary>
    public bool Unusable;

    public readonly int Rpl => Selector & 3;
    public readonly bool IsCode => S && (Type & 8) != 0;
    public readonly bool IsWritableData => S && (Type & 8) == 0 && (Type & 2) != 0;
    public readonly bool IsReadable => S && ((Type & 8) == 0 || (Type & 2) != 0);
    public readonly bool IsConforming => IsCode && (Type & 4) != 0;

    /// <summary>The flat 4 GiB or 64-bit segment the fast system-call instructions force into the cache.</summary>
    public static Segment Flat(ushort selector, byte dpl, bool code, bool longCode) => new()
    {
        Selector = selector,
        Base = 0,
        Limit = 0xFFFF_FFFF,
        Type = (byte)(code ? 0xB : 0x3), // execute/read accessed, read/write accessed
        S = true,
        Dpl = dpl,
        Present = true,
        L = longCode,
        D = !longCode,
        G = true,
    };

    public readonly string Describe()
    {
        if (Unusable) return $"{Selector:x4} (unusable)";
        string kind = S ? (IsCode ? (L ? "code64" : D ? "code32" : "code16") : "data") : $"sys{Type:x}";
        return $"{Selector:x4} base={Base:x} limit={Limit:x} {kind} dpl={Dpl}{(Present ? "" : " not-present")}";
    }
}
