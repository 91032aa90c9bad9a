using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using SyscallTools.Core.Linux.Models;

namespace SyscallTools.Completion;

/// <summary>Completes a kernel model name (New-EmuCpu -Kernel, Get-EmuKernel -Name); the tooltip is the model's description.</summary>
public sealed class KernelNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var pattern = WildcardPattern.Get(wordToComplete.Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        return KernelModel.All.Where(m => pattern.IsMatch(m.Name))
            .Select(m => new CompletionResult(m.Name, m.Name, CompletionResultType.ParameterValue, m.Description));
    }
}
