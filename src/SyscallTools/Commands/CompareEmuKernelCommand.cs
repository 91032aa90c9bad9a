using System.Management.Automation;
using SyscallTools.Completion;
using SyscallTools.Core.Cost;
using SyscallTools.Core.Linux.Design;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Errors;

namespace SyscallTools.Commands;

/// <summary>
/// Runs the same design scenarios on several kernel models and compares each with a baseline: the exit instruction,
/// whether the task saw exactly what it sees on the baseline (and if not, what differed), and the estimated cycles
/// with the difference to the baseline's. The default compares linux-4.4 with the three 2015 design models.
/// </summary>
[Cmdlet(VerbsData.Compare, "EmuKernel")]
[OutputType(typeof(KernelComparison))]
public sealed class CompareEmuKernelCommand : PSCmdlet
{
    /// <summary>The machine whose vendor and kernel bitness the scenarios run on.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public EmuCpu Cpu { get; set; } = null!;

    /// <summary>The models to compare; the first is the baseline unless -Baseline says otherwise.</summary>
    [Parameter(Position = 0)]
    [ArgumentCompleter(typeof(KernelNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] Kernel { get; set; } = ["linux-4.4", "linux-4.4+fastsyscall-flag", "linux-4.4+exit-work-bypass", "linux-4.4+ptregs-accessors"];

    /// <summary>The scenarios to run (default: all of them).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(ScenarioNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Scenario { get; set; }

    /// <summary>The model every other is judged against (default: the first of -Kernel).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(KernelNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Baseline { get; set; }

    /// <summary>A cost table: a hashtable, a .psd1 or .json path. Default: the built-in table for the vendor.</summary>
    [Parameter]
    public object? CostTable { get; set; }

    protected override void ProcessRecord()
    {
        var table = CostTableResolver.ResolveOrStop(CostTable, Cpu.Vendor, this);
        var names = Baseline is null ? Kernel : [Baseline, .. Kernel.Where(k => !k.Equals(Baseline, StringComparison.OrdinalIgnoreCase))];
        var models = new List<KernelModel>();
        foreach (var name in names)
        {
            if (KernelModel.Find(name) is { } m) models.Add(m);
            else
            {
                ThrowTerminatingError(Errors.Errors.Record(ErrorIds.UnknownKernel, ErrorCategory.ObjectNotFound, name,
                    $"There is no kernel model '{name}'. Use one of: {string.Join(", ", KernelModel.All.Select(k => k.Name))}."));
                return;
            }
        }
        var scenarios = Scenario ?? [.. DesignScenarios.All.Keys];
        foreach (var s in scenarios)
        {
            if (!DesignScenarios.All.ContainsKey(s))
            {
                ThrowTerminatingError(Errors.Errors.Record(ErrorIds.UnknownScenario, ErrorCategory.ObjectNotFound, s,
                    $"There is no scenario '{s}'. Use one of: {string.Join(", ", DesignScenarios.All.Keys)} (Tab completes them)."));
                return;
            }
        }

        var progress = new ProgressRecord(2, "Compare-EmuKernel", $"{Cpu.Vendor}, {Cpu.KernelBits}-bit kernel");
        int total = scenarios.Length * models.Count, done = 0;
        foreach (var s in scenarios)
        {
            DesignScenarioOutcome? baseline = null;
            double baselineCycles = 0;
            foreach (var model in models)
            {
                if (Stopping) return;
                progress.PercentComplete = 100 * done++ / total;
                progress.StatusDescription = $"{s} on {model.Name}";
                WriteProgress(progress);
                var o = DesignScenarios.Run(s, model, Cpu.Profile, Cpu.KernelBits);
                double cycles = o.Cost(table).Total;
                if (baseline is null) (baseline, baselineCycles) = (o, cycles);
                WriteObject(new KernelComparison(o, baseline, cycles, baselineCycles));
            }
        }
        progress.RecordType = ProgressRecordType.Completed;
        WriteProgress(progress);
    }
}
