using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using SyscallTools.Core.Linux.Design;

namespace SyscallTools.Completion;

/// <summary>Completes the design scenarios' names (Measure-SyscallPath, Compare-EmuKernel), with what each sets up.</summary>
public sealed class ScenarioNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var pattern = new WildcardPattern((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        return DesignScenarios.All.Where(kv => pattern.IsMatch(kv.Key))
            .Select(kv => new CompletionResult(kv.Key, kv.Key, CompletionResultType.ParameterValue, kv.Value));
    }
}
