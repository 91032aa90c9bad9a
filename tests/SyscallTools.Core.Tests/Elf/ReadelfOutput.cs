using System.Globalization;

namespace SyscallTools.Core.Tests.ElfTests;

/// <summary>
/// Just enough parsing of `readelf -W` text to compare it with <see cref="Core.Elf.ElfReader"/>: section
/// headers (-S), program headers (-l) and symbol tables (-s / --dyn-syms).
/// </summary>
internal static class ReadelfOutput
{
    public sealed record Section(int Index, string Name, string Type, ulong Address, ulong Offset, ulong Size, ulong EntrySize, uint Link, uint Info, ulong Align);
    public sealed record Segment(string Type, ulong Offset, ulong VirtualAddress, ulong FileSize, ulong MemorySize, string Flags, ulong Align);
    public sealed record Symbol(string Table, int Index, ulong Value, ulong Size, string Type, string Bind, string Ndx, string Name);

    public static List<Section> Sections(string text)
    {
        var list = new List<Section>();
        foreach (var line in text.Split('\n'))
        {
            var t = line.Trim();
            if (!t.StartsWith('[') || t.StartsWith("[Nr]")) continue;
            int close = t.IndexOf(']');
            if (!int.TryParse(t[1..close].Trim(), out int index) || index == 0) continue; // section 0 has no name column
            // Name Type Addr Off Size ES [Flg] Lk Inf Al: the flags column may be empty.
            var w = t[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            list.Add(new Section(index, w[0], w[1], Hex(w[2]), Hex(w[3]), Hex(w[4]), Hex(w[5]),
                uint.Parse(w[^3], CultureInfo.InvariantCulture), uint.Parse(w[^2], CultureInfo.InvariantCulture), ulong.Parse(w[^1], CultureInfo.InvariantCulture)));
        }
        return list;
    }

    public static List<Segment> Segments(string text)
    {
        var list = new List<Segment>();
        bool inTable = false;
        foreach (var line in text.Split('\n'))
        {
            var t = line.Trim();
            if (t.StartsWith("Type ")) { inTable = true; continue; }
            if (!inTable) continue;
            if (t.Length == 0) break;
            if (t.StartsWith('[')) continue; // "[Requesting program interpreter: ...]"
            // Type Offset VirtAddr PhysAddr FileSiz MemSiz Flg Align: the flags may contain a space ("R E").
            var w = t.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            list.Add(new Segment(w[0], Hex(w[1]), Hex(w[2]), Hex(w[4]), Hex(w[5]), string.Concat(w[6..^1]), Hex(w[^1])));
        }
        return list;
    }

    public static List<Symbol> Symbols(string text)
    {
        var list = new List<Symbol>();
        string table = "";
        foreach (var line in text.Split('\n'))
        {
            var t = line.Trim();
            if (t.StartsWith("Symbol table '"))
            {
                table = t.Split('\'')[1];
                continue;
            }
            int colon = t.IndexOf(':');
            if (table.Length == 0 || colon <= 0 || !int.TryParse(t[..colon], out int index)) continue;
            // Num: Value Size Type Bind Vis Ndx [Name]
            var w = t[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            ulong size = w[1].StartsWith("0x") ? Hex(w[1]) : ulong.Parse(w[1], CultureInfo.InvariantCulture);
            list.Add(new Symbol(table, index, Hex(w[0]), size, w[2], w[3], w[5], w.Length > 6 ? w[6] : ""));
        }
        return list;
    }

    private static ulong Hex(string s) => ulong.Parse(s.StartsWith("0x") ? s[2..] : s, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}
