using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Syscalls;

namespace SyscallTools.Completion;

/// <summary>
/// Completes -Name of Invoke-Syscall from the table the call would use: the -Cpu's ABI (i386 for -Via Int80), or
/// the i386 and x86-64 names together when no -Cpu is bound yet. The tooltip gives number, arity and ABI.
/// </summary>
public sealed class SyscallNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var tables = TablesFor(fakeBoundParameters);
        var pattern = WildcardPattern.Get(wordToComplete.Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var table in tables)
            foreach (var row in table.Rows.OrderBy(r => r.Name, StringComparer.Ordinal))
            {
                if (!pattern.IsMatch(row.Name) || !seen.Add(row.Name)) continue;
                string abi = table.Abi == SyscallAbi.I386 ? "i386" : "x86-64";
                yield return new CompletionResult(row.Name, row.Name, CompletionResultType.ParameterValue,
                    $"{row.Name}: {abi} number {row.Number}, {row.Arity} argument(s)");
            }
    }

    internal static IReadOnlyList<SyscallTable> TablesFor(IDictionary? bound)
    {
        object? cpu = bound?["Cpu"];
        if (cpu is PSObject p) cpu = p.BaseObject;
        object? via = bound?["Via"];
        if (via is PSObject pv) via = pv.BaseObject;
        bool int80 = via is EntryMethod.Int80 || (via is string s && s.Equals("Int80", StringComparison.OrdinalIgnoreCase));
        if (cpu is EmuCpu c)
            return [c.Bitness == 32 || int80 ? SyscallTable.I386 : SyscallTable.X86_64];
        return [SyscallTable.I386, SyscallTable.X86_64];
    }
}
