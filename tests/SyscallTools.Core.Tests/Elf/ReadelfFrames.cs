using System.Text.RegularExpressions;

namespace SyscallTools.Core.Tests.ElfTests;

/// <summary>
/// Parses <c>readelf --debug-dump=frames-interp</c>: for each FDE its pc range and its rows (LOC, CFA, and one
/// value per column: "u", "c-8", "exp", "r7 (edi)" …), so the CFI reader can be checked against binutils.
/// </summary>
internal static partial class ReadelfFrames
{
    public sealed record Row(ulong Loc, string Cfa, IReadOnlyDictionary<string, string> Columns);
    public sealed record Fde(ulong PcBegin, ulong PcEnd, IReadOnlyList<Row> Rows);

    [GeneratedRegex(@"^[0-9a-f]+ [0-9a-f]+ [0-9a-f]+ FDE cie=[0-9a-f]+ pc=([0-9a-f]+)\.\.([0-9a-f]+)")]
    private static partial Regex FdeLine();
    [GeneratedRegex(@"r\d+ \(\w+\)|\S+")]
    private static partial Regex Token();

    public static List<Fde> Parse(string text)
    {
        var fdes = new List<Fde>();
        List<Row>? rows = null;
        string[]? columns = null;
        foreach (var line in text.Split('\n'))
        {
            var m = FdeLine().Match(line);
            if (m.Success)
            {
                rows = new List<Row>();
                columns = null;
                fdes.Add(new Fde(Convert.ToUInt64(m.Groups[1].Value, 16), Convert.ToUInt64(m.Groups[2].Value, 16), rows));
                continue;
            }
            if (rows is null) continue;
            var t = Token().Matches(line).Select(x => x.Value).ToArray();
            if (t.Length == 0 || line.Contains("CIE")) { rows = null; continue; }
            if (t[0] == "LOC") { columns = t[2..]; continue; }
            if (columns is null || t.Length != columns.Length + 2) continue;
            rows.Add(new Row(Convert.ToUInt64(t[0], 16), t[1], columns.Zip(t[2..]).ToDictionary(p => p.First, p => p.Second)));
        }
        return fdes;
    }
}
