using System.Management.Automation;
using SyscallTools.Completion;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Errors;

namespace SyscallTools.Commands;

/// <summary>Lists the kernel models: which kernel each follows and how its entry and exit code differ.</summary>
[Cmdlet(VerbsCommon.Get, "EmuKernel")]
[OutputType(typeof(KernelModel))]
public sealed class GetEmuKernelCommand : PSCmdlet
{
    /// <summary>Model names to list; wildcards allowed. All when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Kernel")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(KernelNameCompleter))]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        if (Name is null)
        {
            WriteObject(KernelModel.All, enumerateCollection: true);
            return;
        }
        foreach (var name in Name)
        {
            var pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
            var matches = KernelModel.All.Where(m => pattern.IsMatch(m.Name)).ToList();
            if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
            {
                WriteError(Errors.Errors.Record(ErrorIds.UnknownKernel, ErrorCategory.ObjectNotFound, name,
                    $"There is no kernel model '{name}'. Use one of: {string.Join(", ", KernelModel.All.Select(m => m.Name))}."));
                continue;
            }
            WriteObject(matches, enumerateCollection: true);
        }
    }
}
