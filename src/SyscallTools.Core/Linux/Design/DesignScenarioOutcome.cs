using SyscallTools.Core.Cost;

namespace SyscallTools.Core.Linux.Design;

/// <summary>
/// What one scenario did on one model: what the task could observe (compared between models to judge correctness)
/// and how the kernel got there (the exit instruction, the events the cost model prices).
/// </summary>
public sealed class DesignScenarioOutcome
{
    public required string Scenario { get; init; }
    public required string Kernel { get; init; }
    public required string Vendor { get; init; }
    public required int KernelBits { get; init; }
    /// <summary>The exit instruction of the scenario's system call (not of any sigreturn after it).</summary>
    public string? ExitInstruction { get; init; }
    /// <summary>The first failing exit test, or null when the fast exit was taken or none was tested.</summary>
    public string? DecidedBy { get; init; }
    /// <summary>What user code can see, by name: registers, where a trap was reported, whether a handler ran, the signal.</summary>
    public required IReadOnlyDictionary<string, string> Observables { get; init; }
    public required IReadOnlyList<TraceEvent> Trace { get; init; }
    public required IReadOnlyList<KernelCallRecord> KernelEntries { get; init; }

    /// <summary>The cycle estimate of the whole run with a table.</summary>
    public CostEstimate Cost(CostTable table) => CostEstimator.Estimate(Trace, KernelEntries, table);

    /// <summary>The observables that differ from <paramref name="baseline"/>'s, as "name: here (baseline there)".</summary>
    public IReadOnlyList<string> DifferencesFrom(DesignScenarioOutcome baseline) =>
        Observables.Keys.Union(baseline.Observables.Keys).OrderBy(k => k, StringComparer.Ordinal)
            .Where(k => Observables.GetValueOrDefault(k) != baseline.Observables.GetValueOrDefault(k))
            .Select(k => $"{k}: {Observables.GetValueOrDefault(k) ?? "-"} ({baseline.Kernel}: {baseline.Observables.GetValueOrDefault(k) ?? "-"})")
            .ToArray();
}
