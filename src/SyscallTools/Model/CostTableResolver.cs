using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using SyscallTools.Core.Cost;

namespace SyscallTools;

/// <summary>
/// Turns a -CostTable argument into a table: a CostTable, a hashtable of key = cycles (or @{ Cycles; Source }), or the
/// path of a .psd1 or .json file with the same shape. A .psd1 is read as data only (no code runs), as
/// Import-PowerShellDataFile does.
/// </summary>
internal static class CostTableResolver
{
    /// <summary><see cref="Resolve"/>, or the terminating error SyscallTools.InvalidCostTable that says what to change.</summary>
    public static CostTable ResolveOrStop(object? value, string vendor, PSCmdlet cmdlet)
    {
        try { return Resolve(value, vendor, cmdlet); }
        catch (CostTableException e)
        {
            cmdlet.ThrowTerminatingError(Errors.Errors.Record(Errors.ErrorIds.InvalidCostTable, ErrorCategory.InvalidData, value,
                $"{e.Message} (Cost keys are listed in about_SyscallTools_Cost.)", e));
            throw; // not reached: ThrowTerminatingError throws
        }
    }

    public static CostTable Resolve(object? value, string vendor, PSCmdlet cmdlet)
    {
        switch (value is PSObject pso ? pso.BaseObject : value)
        {
            case null:
                return CostTable.BuiltIn(vendor);
            case CostTable table:
                return table;
            case IDictionary map:
                return CostTable.FromPairs("user table", vendor, Pairs(map));
            case string path:
            {
                string full = cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
                if (!File.Exists(full)) throw new CostTableException($"There is no file '{full}'.");
                string name = Path.GetFileNameWithoutExtension(full);
                if (full.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
                    return CostTable.FromJson(name, vendor, File.ReadAllText(full));
                if (full.EndsWith(".psd1", StringComparison.OrdinalIgnoreCase))
                {
                    var ast = Parser.ParseFile(full, out _, out var errors);
                    if (errors.Length > 0) throw new CostTableException($"'{full}' does not parse: {errors[0].Message}");
                    var hash = ast.Find(a => a is HashtableAst, false) as HashtableAst
                        ?? throw new CostTableException($"'{full}' holds no hashtable.");
                    object data;
                    try { data = hash.SafeGetValue(); }
                    catch (InvalidOperationException e) { throw new CostTableException($"'{full}' is not plain data: {e.Message}"); }
                    return CostTable.FromPairs(name, vendor, Pairs((IDictionary)data));
                }
                throw new CostTableException($"'{full}' is neither a .psd1 nor a .json file.");
            }
            default:
                throw new CostTableException($"A cost table is a hashtable, a .psd1 or .json path, or a CostTable, not a {value!.GetType().Name}.");
        }
    }

    private static IEnumerable<KeyValuePair<string, object?>> Pairs(IDictionary map)
    {
        foreach (DictionaryEntry e in map)
        {
            object? v = e.Value is PSObject p ? p.BaseObject : e.Value;
            if (v is IDictionary inner)
            {
                var d = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
                foreach (DictionaryEntry ie in inner) d[ie.Key.ToString()!] = ie.Value is PSObject ip ? ip.BaseObject : ie.Value;
                v = d;
            }
            yield return new(e.Key.ToString()!, v);
        }
    }
}
