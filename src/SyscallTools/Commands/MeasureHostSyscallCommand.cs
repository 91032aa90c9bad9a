using System.Management.Automation;
using SyscallTools.Core.Host;
using SyscallTools.Errors;

namespace SyscallTools.Commands;

/// <summary>
/// Measures the real round-trip cost of a system call (getpid) on this machine for each entry method: a probe loops the
/// call; its wall time less an empty run's, over the iterations, is the ns per call.
/// </summary>
[Cmdlet(VerbsDiagnostic.Measure, "HostSyscall")]
[OutputType(typeof(HostSyscallCost))]
public sealed class MeasureHostSyscallCommand : PSCmdlet
{
    /// <summary>Methods to measure (int80-32, vdso-32, sysenter-32, syscall-32, syscall-64, int80-64); wildcards allowed. All when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Method { get; set; }

    /// <summary>System calls per timed run.</summary>
    [Parameter]
    [ValidateRange(1000, 100_000_000)]
    public long Iterations { get; set; } = 200_000;

    private readonly List<(string Method, int Bitness)> _selected = new();

    protected override void ProcessRecord()
    {
        var all = HostSyscallTiming.Methods;
        if (Method is null) { foreach (var m in all) if (!_selected.Contains(m)) _selected.Add(m); return; }
        foreach (var name in Method)
        {
            var pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
            var matches = all.Where(m => pattern.IsMatch(HostSyscallTiming.Name(m.Method, m.Bitness))).ToList();
            if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
            {
                WriteError(Errors.Errors.Record(ErrorIds.UnknownEntryMethod, ErrorCategory.ObjectNotFound, name,
                    $"There is no entry method '{name}'. Use one of: {string.Join(", ", all.Select(m => HostSyscallTiming.Name(m.Method, m.Bitness)))}."));
                continue;
            }
            foreach (var m in matches) if (!_selected.Contains(m)) _selected.Add(m);
        }
    }

    protected override void EndProcessing()
    {
        if (HostCapabilities.Unavailable is string why) WriteWarning($"Nothing can be measured here: {why}.");
        var progress = new ProgressRecord(2, "Measure-HostSyscall", "Timing system calls on the host");
        for (int i = 0; i < _selected.Count; i++)
        {
            var (method, bits) = _selected[i];
            progress.StatusDescription = HostSyscallTiming.Name(method, bits);
            progress.PercentComplete = 100 * i / _selected.Count;
            WriteProgress(progress);
            try { WriteObject(HostSyscallTiming.Measure(method, bits, Iterations)); }
            catch (InvalidOperationException e)
            {
                WriteError(Errors.Errors.Record(ErrorIds.HostProbeFailed, ErrorCategory.InvalidOperation, method, e.Message, e));
            }
        }
        progress.RecordType = ProgressRecordType.Completed;
        WriteProgress(progress);
    }
}
