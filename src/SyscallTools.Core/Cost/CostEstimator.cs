using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Syscalls;

namespace SyscallTools.Core.Cost;

/// <summary>
/// Turns a run's events (the trace of <see cref="LinuxMachine.InvokeSyscall"/> with tracing on, and its kernel entries)
/// into a cycle estimate. User instructions are the user phase; the entry instruction and the kernel's asm up to its
/// first C call are the entry; C functions, the syscall body, the exit checks actually evaluated and the slow exit are
/// the C phase; the asm after the last C call and the exit instruction are the exit. Direct costs only: caches, TLBs
/// and branch predictors are not modelled (reference/cycle-costs.md §5.4).
/// </summary>
public static class CostEstimator
{
    public static CostEstimate Estimate(IReadOnlyList<TraceEvent> events, IReadOnlyList<KernelCallRecord> entries, CostTable table)
    {
        var counts = new Dictionary<(CostPhase, string), int>();
        void Add(CostPhase p, string key, int n = 1)
        {
            counts.TryGetValue((p, key), out int c);
            counts[(p, key)] = c + n;
        }

        int lastRing = 3;
        bool calledC = false;
        foreach (var e in events)
        {
            switch (e.Kind)
            {
                case "insn" when e.Ring == 3:
                {
                    string key = CostKeys.ForInstruction(e.Text);
                    Add(key is "syscall" or "sysenter" or "int" ? CostPhase.Entry : CostPhase.User, key);
                    lastRing = 3;
                    break;
                }
                case "insn":
                {
                    if (lastRing == 3) calledC = false;         // a new kernel visit
                    lastRing = 0;
                    string key = CostKeys.ForInstruction(e.Text);
                    Add(calledC || key is "sysret" or "sysexit" or "iret" ? CostPhase.Exit : CostPhase.Entry, key);
                    break;
                }
                case "call":
                {
                    lastRing = 0;
                    calledC = true;
                    string name = FunctionName(e.Text);
                    // Syscall table entries are priced as the body, below, once per entry.
                    if (name.StartsWith("__ia32_sys_", StringComparison.Ordinal) || name.StartsWith("__x64_sys_", StringComparison.Ordinal)) break;
                    Add(CostPhase.C, "c:" + (name.StartsWith("exc_handler", StringComparison.Ordinal) ? "exc_handler" : name));
                    break;
                }
                case "far" when e.Text.Contains(" delivery:", StringComparison.Ordinal):
                    Add(CostPhase.Entry, "exception");
                    break;
            }
        }

        foreach (var r in entries)
        {
            if (r.Exit is { } d)
            {
                // The kernel stops at the first failing test; the ladder lists the rest as not reached.
                int failed = -1;
                for (int i = 0; i < d.Checks.Count; i++) if (!d.Checks[i].Passed) { failed = i; break; }
                int reached = failed < 0 ? d.Checks.Count : failed + 1;
                if (r.Entry is EntryKind.Int80) reached = 0;     // not a test the kernel makes: int $0x80 always irets
                if (reached > 0) Add(CostPhase.C, "c:exit-check", reached);
            }
            if (r.SlowExit) Add(CostPhase.C, "c:slow-exit");
            if (r.Number >= 0 && r.Entry is not (EntryKind.None or EntryKind.Exception))
            {
                var abi = r.Entry == EntryKind.Syscall64 ? SyscallAbi.X86_64 : SyscallAbi.I386;
                string? name = SyscallTable.For(abi).ByNumber(r.Number)?.Name;
                Add(CostPhase.C, name is not null && table.Find("c:sys_" + name) is not null ? "c:sys_" + name : "c:syscall-body");
            }
        }

        var lines = new List<CostLine>();
        foreach (var ((phase, key), n) in counts.OrderBy(kv => kv.Key.Item1).ThenBy(kv => kv.Key.Item2, StringComparer.Ordinal))
        {
            var entry = table.Find(key) ?? new CostEntry(key, 0, CostStatus.Assumption, "no figure in the table: priced at 0");
            lines.Add(new CostLine(phase, key, n, entry.Cycles, entry.Status, entry.Source));
        }
        return new CostEstimate(table.Name, lines);
    }

    private static string FunctionName(string text)
    {
        const string prefix = "C function ";
        string t = text.StartsWith(prefix, StringComparison.Ordinal) ? text[prefix.Length..] : text;
        int paren = t.IndexOf('(');
        return paren < 0 ? t : t[..paren];
    }
}
