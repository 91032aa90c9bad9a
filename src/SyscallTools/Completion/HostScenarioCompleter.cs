using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using SyscallTools.Core.Host;

namespace SyscallTools.Completion;

/// <summary>Completes a Compare-HostKernel scenario name; the tooltip is what the scenario probes.</summary>
public sealed class HostScenarioCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var pattern = WildcardPattern.Get(wordToComplete.Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        return HostScenarios.All.Where(s => pattern.IsMatch(s.Name))
            .Select(s => new CompletionResult(s.Name, s.Name, CompletionResultType.ParameterValue, s.Description));
    }
}
