namespace SyscallTools.Core.Cost;

/// <summary>The phases a round trip's cycles are split into.</summary>
public enum CostPhase { User, Entry, C, Exit }

/// <summary>One line of an estimate: a priced item in a phase, how often it occurred, and where its price comes from.</summary>
public sealed record CostLine(CostPhase Phase, string Key, int Count, double Each, CostStatus Status, string Source)
{
    public double Cycles => Count * Each;
    public override string ToString() => $"{Phase,-5} {Key,-28} {Count,4} × {Each,6:0.##} = {Cycles,8:0.##}  ({Status}: {Source})";
}

/// <summary>A cycle estimate for one run, with its breakdown by phase and by item.</summary>
public sealed record CostEstimate(string Table, IReadOnlyList<CostLine> Lines)
{
    public double Total => Lines.Sum(l => l.Cycles);
    public double User => Phase(CostPhase.User);
    public double Entry => Phase(CostPhase.Entry);
    public double C => Phase(CostPhase.C);
    public double Exit => Phase(CostPhase.Exit);
    /// <summary>The kernel's share: entry, C and exit.</summary>
    public double Kernel => Entry + C + Exit;
    public double Phase(CostPhase p) => Lines.Where(l => l.Phase == p).Sum(l => l.Cycles);
    /// <summary>How many of the priced figures are assumptions rather than sourced or calibrated ones.</summary>
    public int AssumedLines => Lines.Count(l => l.Status == CostStatus.Assumption);
}
