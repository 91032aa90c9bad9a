using System.Management.Automation;
using SyscallTools.Core.Cpu;
using SyscallTools.Errors;

namespace SyscallTools.Commands;

/// <summary>
/// Lists the processor models the emulator can be, with every behaviour in which they differ at the
/// system-call boundary.
/// </summary>
[Cmdlet(VerbsCommon.Get, "EmuCpuProfile")]
[OutputType(typeof(CpuProfile))]
public sealed class GetEmuCpuProfileCommand : PSCmdlet
{
    /// <summary>Vendor names to list (Intel, AMD); wildcards allowed. All when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Vendor { get; set; }

    protected override void ProcessRecord()
    {
        if (Vendor is null)
        {
            foreach (var p in CpuProfile.All) WriteObject(p);
            return;
        }
        foreach (var name in Vendor)
        {
            var pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
            var matches = CpuProfile.All.Where(p => pattern.IsMatch(p.Vendor.ToString()) || pattern.IsMatch(p.Name)).ToList();
            if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
            {
                WriteError(new ErrorRecord(
                    new ArgumentException($"No CPU profile for vendor '{name}'. Use one of: {string.Join(", ", CpuProfile.All.Select(p => p.Vendor))}."),
                    ErrorIds.UnknownVendor, ErrorCategory.ObjectNotFound, name));
                continue;
            }
            foreach (var p in matches) WriteObject(p);
        }
    }
}
