using System.Globalization;

namespace SyscallTools.Core.Tests.Support;

/// <summary>
/// The one parser for test-vector files: one case per line, columns separated by '|', '#' comments.
/// Key/value columns are "key=value" words.
/// </summary>
public static class VectorFile
{
    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "Vectors", name);

    public static IEnumerable<string[]> Rows(string name)
    {
        foreach (var raw in File.ReadLines(PathOf(name)))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            yield return line.Split('|').Select(c => c.Trim()).ToArray();
        }
    }

    public static Dictionary<string, string> KeyValues(string column)
    {
        var d = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var word in column.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = word.IndexOf('=');
            if (eq < 0) d[word] = "";
            else d[word[..eq]] = word[(eq + 1)..];
        }
        return d;
    }

    public static ulong Number(string s)
    {
        s = s.Trim();
        bool neg = s.StartsWith('-');
        if (neg) s = s[1..];
        ulong v = s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.Parse(s.AsSpan(2).ToString().Replace("_", ""), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : ulong.Parse(s, CultureInfo.InvariantCulture);
        return neg ? (ulong)-(long)v : v;
    }

    public static ulong[] Numbers(string s) => s.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(Number).ToArray();
}
