namespace SyscallTools.Core.Cost;

/// <summary>Where a cost figure comes from (reference/cycle-costs.md's status column, plus the model's own kinds).</summary>
public enum CostStatus
{
    /// <summary>Stated in a primary or secondary source (a measurement, a commit message, a manual).</summary>
    Sourced,
    /// <summary>Chosen so that the model reproduces a published delta; the source of that delta is named.</summary>
    Calibrated,
    /// <summary>An assumption: a plausible default with no source. Tune it.</summary>
    Assumption,
    /// <summary>Given by the user in their own table.</summary>
    User,
}

/// <summary>One figure of a cost table: what it prices, how many cycles, and why that number.</summary>
public sealed record CostEntry(string Key, double Cycles, CostStatus Status, string Source)
{
    public override string ToString() => $"{Key} = {Cycles} cycles ({Status}: {Source})";
}
