using SyscallTools.Core.Cost;
using SyscallTools.Core.Linux.Design;

namespace SyscallTools;

/// <summary>Measure-SyscallPath's answer: a scenario (or a traced result) on one model, in cycles, with the breakdown.</summary>
public sealed class SyscallCostEstimate
{
    internal SyscallCostEstimate(string scenario, string kernel, string vendor, int kernelBits, string? exit, CostEstimate estimate, CostTable table)
    {
        Scenario = scenario; Kernel = kernel; Vendor = vendor; KernelBits = kernelBits; ExitInstruction = exit;
        Estimate = estimate; Table = table.Name;
    }

    public string Scenario { get; }
    public string Kernel { get; }
    public string Vendor { get; }
    public int KernelBits { get; }
    public string? ExitInstruction { get; }
    public double Cycles => Estimate.Total;
    public double User => Estimate.User;
    public double Entry => Estimate.Entry;
    public double C => Estimate.C;
    public double Exit => Estimate.Exit;
    /// <summary>Every priced item with its count, price and the price's source.</summary>
    public IReadOnlyList<CostLine> Lines => Estimate.Lines;
    /// <summary>How many lines are priced by assumptions rather than sourced or calibrated figures.</summary>
    public int AssumedLines => Estimate.AssumedLines;
    public string Table { get; }
    public CostEstimate Estimate { get; }

    public override string ToString() => $"{Scenario} on {Kernel} ({Vendor}, {KernelBits}-bit kernel): {Cycles:0.#} cycles, exit {ExitInstruction}";
}

/// <summary>Compare-EmuKernel's row: one scenario on one model against a baseline model.</summary>
public sealed class KernelComparison
{
    internal KernelComparison(DesignScenarioOutcome outcome, DesignScenarioOutcome baseline, double cycles, double baselineCycles)
    {
        Scenario = outcome.Scenario; Kernel = outcome.Kernel; Vendor = outcome.Vendor; KernelBits = outcome.KernelBits;
        ExitInstruction = outcome.ExitInstruction; DecidedBy = outcome.DecidedBy; Baseline = baseline.Kernel;
        Differences = outcome.DifferencesFrom(baseline); Cycles = cycles; Delta = cycles - baselineCycles; Outcome = outcome;
    }

    public string Scenario { get; }
    public string Kernel { get; }
    public string Vendor { get; }
    public int KernelBits { get; }
    public string? ExitInstruction { get; }
    /// <summary>The exit test that sent the exit to IRET (null: the fast exit, or no test).</summary>
    public string? DecidedBy { get; }
    /// <summary>True when the task saw exactly what it sees on the baseline (registers, trap address, signal, handler runs).</summary>
    public bool Correct => Differences.Count == 0;
    /// <summary>What the task saw differently, as "observable: here (baseline: there)".</summary>
    public IReadOnlyList<string> Differences { get; }
    public double Cycles { get; }
    /// <summary>Cycles minus the baseline's for the same scenario.</summary>
    public double Delta { get; }
    public string Baseline { get; }
    public DesignScenarioOutcome Outcome { get; }

    public override string ToString() => $"{Scenario} on {Kernel}: {ExitInstruction}, {(Correct ? "correct" : "differs")}, {Cycles:0.#} cycles ({Delta:+0.#;-0.#;0})";
}
