using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using SyscallTools.Core.Linux;

namespace SyscallTools.Completion;

/// <summary>
/// Completes a pt_regs field name (bx, orig_ax, ip, r11 …): the bound -Cpu's kernel layout, or both layouts when no
/// -Cpu is bound. The tooltip gives the field's offset and group.
/// </summary>
public sealed class RegisterNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        object? cpu = fakeBoundParameters?["Cpu"];
        if (cpu is PSObject p) cpu = p.BaseObject;
        IEnumerable<PtRegsField> fields = cpu is EmuCpu c
            ? (c.KernelBits == 64 ? PtRegs.Layout64 : PtRegs.Layout32)
            : PtRegs.Layout64.Concat(PtRegs.Layout32);
        var pattern = WildcardPattern.Get(wordToComplete.Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in fields)
            if (pattern.IsMatch(f.Name) && seen.Add(f.Name))
                yield return new CompletionResult(f.Name, f.Name, CompletionResultType.ParameterValue, $"pt_regs.{f.Name} (+0x{f.Offset:x}, {f.Group})");
    }
}
