using System.Management.Automation;
using SyscallTools.Completion;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Host;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Errors;

namespace SyscallTools.Commands;

/// <summary>
/// Runs probe scenarios on the real kernel of this machine and in the emulator (a CPU of the host's vendor, the
/// chosen kernel model) and writes one row per observable: scenario, field, host value, emulated value, agree.
/// Where the host cannot run a scenario (not Linux x86-64, no IA32 emulation, no ptrace) the row says why instead.
/// </summary>
[Cmdlet(VerbsData.Compare, "HostKernel", DefaultParameterSetName = CompareSet)]
[OutputType(typeof(HostKernelComparison), ParameterSetName = [CompareSet])]
[OutputType(typeof(HostScenarioInfo), ParameterSetName = [ListSet])]
public sealed class CompareHostKernelCommand : PSCmdlet
{
    private const string CompareSet = "Compare";
    private const string ListSet = "List";

    /// <summary>Scenario names (wildcards allowed); all when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = CompareSet)]
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = ListSet)]
    [Alias("Name")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(HostScenarioCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Scenario { get; set; }

    /// <summary>List the scenarios instead of running them.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ListSet)]
    public SwitchParameter ListAvailable { get; set; }

    /// <summary>The emulator's kernel model (linux-6.18 matches a current host).</summary>
    [Parameter(ParameterSetName = CompareSet)]
    [ArgumentCompleter(typeof(KernelNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Kernel { get; set; } = "linux-6.18";

    /// <summary>Map the host's own 32-bit vDSO (dumped by a probe) in the emulated task instead of the one the model builds.</summary>
    [Parameter(ParameterSetName = CompareSet)]
    public SwitchParameter HostVdso { get; set; }

    /// <summary>Seconds a probe may run on the host before it is killed.</summary>
    [Parameter(ParameterSetName = CompareSet)]
    [ValidateRange(1, 600)]
    public int TimeoutSeconds { get; set; } = 10;

    private readonly List<HostScenario> _selected = new();

    protected override void ProcessRecord()
    {
        if (Scenario is null)
        {
            foreach (var s in HostScenarios.All) if (!_selected.Contains(s)) _selected.Add(s);
            return;
        }
        foreach (var name in Scenario)
        {
            var pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
            var matches = HostScenarios.All.Where(s => pattern.IsMatch(s.Name)).ToList();
            if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
            {
                WriteError(Errors.Errors.Record(ErrorIds.UnknownScenario, ErrorCategory.ObjectNotFound, name,
                    $"There is no host scenario '{name}'. Compare-HostKernel -ListAvailable lists them."));
                continue;
            }
            foreach (var s in matches) if (!_selected.Contains(s)) _selected.Add(s);
        }
    }

    protected override void EndProcessing()
    {
        if (ParameterSetName == ListSet)
        {
            foreach (var s in _selected) WriteObject(HostScenarioInfo.Of(s));
            return;
        }
        var model = KernelModel.Find(Kernel);
        if (model is null)
        {
            WriteError(Errors.Errors.Record(ErrorIds.UnknownKernel, ErrorCategory.ObjectNotFound, Kernel,
                $"No kernel model '{Kernel}'. Get-EmuKernel lists them."));
            return;
        }
        if (HostCapabilities.Unavailable is string why) WriteWarning($"The host kernel cannot be compared here: {why}. Every scenario is reported as skipped.");
        CpuVendor? vendor = HostCapabilities.Vendor;
        byte[]? vdso = null;
        var timeout = TimeSpan.FromSeconds(TimeoutSeconds);
        if (HostVdso && model.Generation == EntryGeneration.PreRewrite)
            WriteWarning($"-HostVdso is ignored for {model.Name}: its fast exits return into its own three images, not to a landing pad, so it cannot run another image.");
        else if (HostVdso && HostCapabilities.Unavailable is null)
        {
            var (image, noVdso) = HostComparison.DumpHostVdso(timeout);
            if (image is null) WriteWarning($"The host's vDSO could not be dumped ({noVdso}); the emulator uses the one {Kernel} builds.");
            vdso = image;
        }
        var progress = new ProgressRecord(1, "Compare-HostKernel", "Running scenarios on the host and in the emulator");
        for (int i = 0; i < _selected.Count; i++)
        {
            var s = _selected[i];
            progress.StatusDescription = s.Name;
            progress.PercentComplete = 100 * i / _selected.Count;
            WriteProgress(progress);
            IReadOnlyList<HostKernelComparison> rows;
            try { rows = HostComparison.Compare(s, vendor, vdso, Kernel, timeout); }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException or UnauthorizedAccessException)
            {
                WriteError(Errors.Errors.Record(ErrorIds.HostProbeFailed, ErrorCategory.InvalidOperation, s.Name,
                    $"Scenario '{s.Name}' could not be run: {e.Message}", e));
                continue;
            }
            foreach (var r in rows)
            {
                if (r.Skipped) WriteVerbose($"{s.Name}: skipped: {r.SkipReason}");
                WriteObject(r);
            }
        }
        progress.RecordType = ProgressRecordType.Completed;
        WriteProgress(progress);
    }
}
