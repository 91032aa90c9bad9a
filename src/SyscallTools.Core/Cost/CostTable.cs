using System.Globalization;
using System.Text.Json;

namespace SyscallTools.Core.Cost;

/// <summary>
/// A cycle-cost table: transition instructions (by mnemonic), ordinary instructions by class (<c>class:…</c>), and the
/// kernel's C functions and their parts (<c>c:…</c>). Keys are listed in <see cref="CostKeys"/>. A table missing a key
/// falls back to the built-in table of the same vendor, so a user table may give only what it changes.
/// </summary>
public sealed class CostTable
{
    private readonly Dictionary<string, CostEntry> _entries;

    public CostTable(string name, string vendor, IEnumerable<CostEntry> entries, CostTable? fallback = null)
    {
        Name = name;
        Vendor = vendor;
        _entries = new Dictionary<string, CostEntry>(StringComparer.OrdinalIgnoreCase);
        foreach (var e in entries)
        {
            if (double.IsNaN(e.Cycles) || double.IsInfinity(e.Cycles) || e.Cycles < 0)
                throw new CostTableException($"'{e.Key}': {e.Cycles} is not a cycle count; give a number ≥ 0.");
            _entries[e.Key] = e;
        }
        Fallback = fallback;
    }

    public string Name { get; }
    public string Vendor { get; }
    public CostTable? Fallback { get; }

    /// <summary>The table's own figures (not the fallback's).</summary>
    public IReadOnlyCollection<CostEntry> Entries => _entries.Values;

    /// <summary>The figure for a key, from this table or its fallback; null when neither has it.</summary>
    public CostEntry? Find(string key) => _entries.TryGetValue(key, out var e) ? e : Fallback?.Find(key);

    /// <summary>The built-in table for a vendor ("Intel" or "AMD").</summary>
    public static CostTable BuiltIn(string vendor) =>
        vendor.Equals("AMD", StringComparison.OrdinalIgnoreCase) ? BuiltInCostTables.AmdZen3 : BuiltInCostTables.IntelSkylake;

    /// <summary>
    /// A user table from name → value pairs (a .psd1 hashtable or a JSON object's properties). A value is a number, or
    /// a map with <c>Cycles</c> and optionally <c>Source</c>. Unknown keys are an error, so a typo cannot go unnoticed.
    /// </summary>
    public static CostTable FromPairs(string name, string vendor, IEnumerable<KeyValuePair<string, object?>> pairs)
    {
        var entries = new List<CostEntry>();
        foreach (var (key, value) in pairs)
        {
            if (!CostKeys.IsKnown(key))
                throw new CostTableException($"'{key}' is not a cost key. Known keys: {string.Join(", ", CostKeys.All)} (and c:sys_<name> for a syscall body).");
            entries.Add(value switch
            {
                IDictionary<string, object?> map => new CostEntry(key, Number(key, Get(map, "Cycles")), CostStatus.User,
                    Get(map, "Source")?.ToString() ?? "user table"),
                _ => new CostEntry(key, Number(key, value), CostStatus.User, "user table"),
            });
        }
        return new CostTable(name, vendor, entries, BuiltIn(vendor));
    }

    /// <summary>A user table from JSON: <c>{ "syscall": 25, "iret": { "Cycles": 120, "Source": "my measurement" } }</c>.</summary>
    public static CostTable FromJson(string name, string vendor, string json)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new CostTableException($"The cost table is not valid JSON: {e.Message}"); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new CostTableException("A JSON cost table is an object whose properties are cost keys.");
            var pairs = new List<KeyValuePair<string, object?>>();
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                object? v = p.Value.ValueKind switch
                {
                    JsonValueKind.Number => p.Value.GetDouble(),
                    JsonValueKind.Object => p.Value.EnumerateObject().ToDictionary(
                        q => q.Name, q => (object?)(q.Value.ValueKind == JsonValueKind.Number ? q.Value.GetDouble() : q.Value.ToString()),
                        StringComparer.OrdinalIgnoreCase),
                    _ => p.Value.ToString(),
                };
                pairs.Add(new(p.Name, v));
            }
            return FromPairs(name, vendor, pairs);
        }
    }

    private static object? Get(IDictionary<string, object?> map, string key) =>
        map.FirstOrDefault(kv => string.Equals(kv.Key, key, StringComparison.OrdinalIgnoreCase)).Value;

    private static double Number(string key, object? value) => value switch
    {
        double d => d,
        int i => i,
        long l => l,
        decimal m => (double)m,
        string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => throw new CostTableException($"'{key}': '{value}' is not a number of cycles."),
    };

    public override string ToString() => $"{Name} ({Vendor}, {_entries.Count} figures)";
}

/// <summary>A cost table that cannot be used as given; the message says what to change.</summary>
public sealed class CostTableException(string message) : Exception(message);
