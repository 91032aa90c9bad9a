using System.Management.Automation;
using SyscallTools.Completion;
using SyscallTools.Core.Cost;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Design;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Errors;

namespace SyscallTools.Commands;

/// <summary>
/// Estimates the cycles of a system-call round trip with the cost model: a design scenario run on the machine's
/// vendor and kernel bitness (on its own model, or on each of -Kernel), or a traced Invoke-Syscall result. The answer
/// is split into user, entry, C and exit, with every priced item and where its price comes from.
/// </summary>
[Cmdlet(VerbsDiagnostic.Measure, "SyscallPath", DefaultParameterSetName = ByScenario)]
[OutputType(typeof(SyscallCostEstimate))]
public sealed class MeasureSyscallPathCommand : PSCmdlet
{
    public const string ByScenario = nameof(ByScenario);
    public const string ByResult = nameof(ByResult);

    /// <summary>The machine whose vendor and kernel bitness (and, without -Kernel, model) the scenario runs on.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByScenario)]
    public EmuCpu Cpu { get; set; } = null!;

    /// <summary>The design scenario (Tab lists them): getpid, user-tf, signal-handler, kill-self, tracer-edit.</summary>
    [Parameter(Position = 0, ParameterSetName = ByScenario)]
    [ArgumentCompleter(typeof(ScenarioNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Scenario { get; set; } = "getpid";

    /// <summary>Run the scenario on these models instead of the machine's own (one estimate each).</summary>
    [Parameter(ParameterSetName = ByScenario)]
    [ArgumentCompleter(typeof(KernelNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Kernel { get; set; }

    /// <summary>A result of Invoke-Syscall -Trace to price instead of a scenario.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByResult)]
    public SyscallResult Result { get; set; } = null!;

    /// <summary>A cost table: a hashtable (key = cycles, or key = @{ Cycles = …; Source = … }), a .psd1 or .json path. Default: the built-in table for the vendor.</summary>
    [Parameter]
    public object? CostTable { get; set; }

    protected override void ProcessRecord()
    {
        string vendor = ParameterSetName == ByResult ? Result.Vendor : Cpu.Vendor;
        var table = CostTableResolver.ResolveOrStop(CostTable, vendor, this);

        if (ParameterSetName == ByResult)
        {
            if (Result.Trace is null)
            {
                WriteError(Errors.Errors.Record(ErrorIds.NoTrace, ErrorCategory.InvalidArgument, Result,
                    "This result has no trace to price. Make the call with Invoke-Syscall -Trace."));
                return;
            }
            var est = CostEstimator.Estimate(Result.Trace, Result.KernelEntries, table);
            WriteObject(new SyscallCostEstimate($"{Result.Name} via {Result.Via}", Result.Kernel, Result.Vendor, Result.KernelBits, Result.ExitInstruction, est, table));
            return;
        }

        if (!DesignScenarios.All.ContainsKey(Scenario))
        {
            WriteError(Errors.Errors.Record(ErrorIds.UnknownScenario, ErrorCategory.ObjectNotFound, Scenario,
                $"There is no scenario '{Scenario}'. Use one of: {string.Join(", ", DesignScenarios.All.Keys)} (Tab completes them)."));
            return;
        }
        foreach (string name in Kernel ?? [Cpu.Kernel])
        {
            var model = KernelModel.Find(name);
            if (model is null)
            {
                WriteError(Errors.Errors.Record(ErrorIds.UnknownKernel, ErrorCategory.ObjectNotFound, name,
                    $"There is no kernel model '{name}'. Use one of: {string.Join(", ", KernelModel.All.Select(m => m.Name))}."));
                continue;
            }
            var o = DesignScenarios.Run(Scenario, model, Cpu.Profile, Cpu.KernelBits);
            WriteObject(new SyscallCostEstimate(o.Scenario, o.Kernel, o.Vendor, o.KernelBits, o.ExitInstruction, o.Cost(table), table));
        }
    }
}
