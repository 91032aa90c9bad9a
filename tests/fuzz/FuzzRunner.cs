using System.Diagnostics;
using System.Text;

namespace SyscallTools.Fuzz;

/// <summary>What one fuzz pass is asked to do.</summary>
public sealed record FuzzOptions
{
    public ulong Seed { get; init; } = 1;
    /// <summary>Inputs per fuzzer (when <see cref="Minutes"/> is 0).</summary>
    public long Count { get; init; } = 100;
    /// <summary>Run round-robin over the fuzzers until this much time has passed (0: use <see cref="Count"/>).</summary>
    public double Minutes { get; init; }
    /// <summary>Only these fuzzers (null: all).</summary>
    public IReadOnlyList<string>? Only { get; init; }
    /// <summary>Replay one input: its index (with one fuzzer in <see cref="Only"/>).</summary>
    public long? Index { get; init; }
    /// <summary>Every n-th input is run twice, the second time with every block compiled, and the two results compared (0: never).</summary>
    public int DeterminismEvery { get; init; } = 8;
    /// <summary>An input that takes longer than this (wall clock) is reported as a hang.</summary>
    public TimeSpan HangAfter { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Stop at the first failing input.</summary>
    public bool StopOnFailure { get; init; }
}

/// <summary>One oracle failure, with everything needed to run the input again.</summary>
public sealed record FuzzFailure(string Fuzzer, ulong Seed, long Index, string Problem, string Input)
{
    public string Reproducer => $"build.ps1 -Task Fuzz -Seed {Seed} -Fuzzer {Fuzzer} -Index {Index}";

    public override string ToString() =>
        $"[{Fuzzer} #{Index}] {Problem}\n    reproduce: {Reproducer}\n    input: {Input.Replace("\n", "\n           ")}";
}

/// <summary>The counts a pass ends with.</summary>
public sealed class FuzzReport
{
    public ulong Seed { get; init; }
    public SortedDictionary<string, long> Tried { get; } = new(StringComparer.Ordinal);
    /// <summary>Faults and outcomes the emulated machines produced, by kind ("user #GP", "SIGSEGV", "oops (expected)"…): not failures.</summary>
    public SortedDictionary<string, long> Seen { get; } = new(StringComparer.Ordinal);
    public List<FuzzFailure> Failures { get; } = new();
    /// <summary>Invariant violations (a subset of the failures).</summary>
    public long Violations { get; set; }
    /// <summary>Inputs run twice whose two runs did not give identical results.</summary>
    public long Disagreements { get; set; }
    public long DeterminismChecks { get; set; }
    public long HostExceptions { get; set; }
    public long Hangs { get; set; }
    public TimeSpan Elapsed { get; set; }
    public bool Passed => Failures.Count == 0;

    public string Summary()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"fuzz seed {Seed}: {Tried.Values.Sum()} inputs in {Elapsed.TotalSeconds:F1} s");
        sb.AppendLine("inputs tried per fuzzer:");
        foreach (var (k, v) in Tried) sb.AppendLine($"  {k,-14} {v}");
        sb.AppendLine("faults and outcomes seen, by kind:");
        foreach (var (k, v) in Seen) sb.AppendLine($"  {k,-40} {v}");
        sb.AppendLine($"oracles: {HostExceptions} host exceptions, {Hangs} hangs, {Violations} invariant violations, " +
                      $"{Disagreements} disagreements in {DeterminismChecks} repeated runs");
        sb.Append(Passed ? "PASSED" : $"FAILED: {Failures.Count} failing input(s)");
        return sb.ToString();
    }
}

/// <summary>An oracle failed for the input in hand.</summary>
public sealed class FuzzViolation(string kind, string message) : Exception(message)
{
    public string Kind { get; } = kind;
}

/// <summary>Everything one input sees: its own seeded generator, where to describe itself, where to count.</summary>
public sealed class FuzzContext
{
    private readonly Dictionary<string, long>? _seen;

    internal FuzzContext(Random rng, Dictionary<string, long>? seen, CancellationToken hang)
    {
        Rng = rng;
        _seen = seen;
        Hang = hang;
    }

    public Random Rng { get; }
    /// <summary>Cancelled when the input has run for longer than the hang limit; every run is given it.</summary>
    public CancellationToken Hang { get; }
    /// <summary>The input in words and bytes, for the reproducer.</summary>
    public StringBuilder Input { get; } = new();
    /// <summary>What the input did, for the determinism comparison.</summary>
    public StringBuilder Result { get; } = new();

    public void Saw(string kind)
    {
        if (_seen is not null) _seen[kind] = _seen.GetValueOrDefault(kind) + 1;
    }

    public void Describe(string line)
    {
        Input.AppendLine(line);
        Echo?.WriteLine("  input: " + line);
        Echo?.Flush();
    }

    /// <summary>When replaying one input, its description is written here as it is made (a hang still shows it).</summary>
    public TextWriter? Echo { get; init; }

    /// <summary>An emulator invariant does not hold.</summary>
    public static void Violation(string message) => throw new FuzzViolation("invariant", message);

    public static void Require(bool condition, string message)
    {
        if (!condition) Violation(message);
    }
}

/// <summary>A fuzzer: makes one input from the context's generator, runs it and checks the oracles.</summary>
public interface IFuzzer
{
    string Name { get; }
    void Run(FuzzContext ctx);
}

/// <summary>Runs the fuzzers round-robin, each input from its own seed, and collects the counts.</summary>
public static class FuzzRunner
{
    public static IReadOnlyList<IFuzzer> All { get; } =
    [
        new UserCodeFuzzer(), new KernelCodeFuzzer(), new SyscallFuzzer(), new PtRegsEditFuzzer(), new ElfFuzzer(),
    ];

    /// <summary>The seed of input <paramref name="index"/> of fuzzer <paramref name="fuzzer"/> (SplitMix64 of the three).</summary>
    public static int InputSeed(ulong seed, string fuzzer, long index)
    {
        ulong z = seed;
        foreach (char ch in fuzzer) z = (z ^ ch) * 0x100000001B3UL;
        z += 0x9E3779B97F4A7C15UL * (ulong)(index + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & 0x7FFF_FFFF);
    }

    public static FuzzReport Run(FuzzOptions options, TextWriter? log = null)
    {
        var fuzzers = options.Only is null ? All
            : All.Where(f => options.Only.Contains(f.Name, StringComparer.OrdinalIgnoreCase)).ToList();
        if (fuzzers.Count == 0)
            throw new ArgumentException($"No fuzzer is called {string.Join(", ", options.Only!)}; the fuzzers are {string.Join(", ", All.Select(f => f.Name))}.");
        var report = new FuzzReport { Seed = options.Seed };
        foreach (var f in fuzzers) report.Tried[f.Name] = 0;
        var seen = new Dictionary<string, long>();
        var clock = Stopwatch.StartNew();
        var deadline = options.Minutes > 0 ? TimeSpan.FromMinutes(options.Minutes) : (TimeSpan?)null;
        var lastProgress = TimeSpan.Zero;

        IEnumerable<(IFuzzer F, long I)> Schedule()
        {
            if (options.Index is long only)
            {
                foreach (var f in fuzzers) yield return (f, only);
                yield break;
            }
            for (long i = 0; deadline is not null || i < options.Count; i++)
                foreach (var f in fuzzers)
                {
                    if (deadline is { } d && clock.Elapsed >= d) yield break;
                    yield return (f, i);
                }
        }

        foreach (var (f, i) in Schedule())
        {
            var failure = RunOne(f, i, options, seen, report, log);
            report.Tried[f.Name]++;
            if (failure is not null)
            {
                report.Failures.Add(failure);
                log?.WriteLine("FAIL " + failure);
                if (options.StopOnFailure) break;
            }
            if (log is not null && clock.Elapsed - lastProgress > TimeSpan.FromSeconds(30))
            {
                lastProgress = clock.Elapsed;
                log.WriteLine($"  … {clock.Elapsed:mm\\:ss} {report.Tried.Values.Sum()} inputs, {report.Failures.Count} failing");
            }
        }
        foreach (var (k, v) in seen) report.Seen[k] = v;
        report.Elapsed = clock.Elapsed;
        return report;
    }

    /// <summary>The input being run now and when it started (for the driver's watchdog).</summary>
    public static (string Fuzzer, long Index, Stopwatch Clock)? InFlight { get; private set; }

    private static FuzzFailure? RunOne(IFuzzer f, long index, FuzzOptions options, Dictionary<string, long> seen, FuzzReport report, TextWriter? log)
    {
        InFlight = (f.Name, index, Stopwatch.StartNew());
        try { return RunOneInner(f, index, options, seen, report, options.Index is null ? null : log); }
        finally { InFlight = null; }
    }

    private static FuzzFailure? RunOneInner(IFuzzer f, long index, FuzzOptions options, Dictionary<string, long> seen, FuzzReport report, TextWriter? echo)
    {
        int seed = InputSeed(options.Seed, f.Name, index);
        using var hang = new CancellationTokenSource(options.HangAfter);
        var ctx = new FuzzContext(new Random(seed), seen, hang.Token) { Echo = echo };
        var clock = Stopwatch.StartNew();
        string? problem = null;
        try
        {
            f.Run(ctx);
            if (hang.IsCancellationRequested)
            {
                report.Hangs++;
                problem = $"hang: the input ran for {clock.Elapsed.TotalSeconds:F1} s, past the {options.HangAfter.TotalSeconds} s limit";
            }
        }
        catch (FuzzViolation v) when (v.Kind == "hang")
        {
            report.Hangs++;
            problem = v.Message;
        }
        catch (FuzzViolation v)
        {
            report.Violations++;
            problem = $"{v.Kind} violation: {v.Message}";
        }
        catch (Exception e)
        {
            report.HostExceptions++;
            problem = $"host exception: {e.GetType().FullName}: {e.Message}\n{e.StackTrace}";
        }
        if (problem is null && options.DeterminismEvery > 0 && index % options.DeterminismEvery == 0)
        {
            report.DeterminismChecks++;
            using var hang2 = new CancellationTokenSource(options.HangAfter);
            var again = new FuzzContext(new Random(seed), null, hang2.Token);
            // The repeat translates every block before its first run (the first run mostly interprets: few blocks get
            // hot in one input), so a disagreement is either non-determinism or the block compiler differing from
            // the interpreter.
            using (SyscallTools.Core.Cpu.Cpu.UseCompileThreshold(0))
            {
                try { f.Run(again); }
                catch (Exception e) { again.Result.Append($"\n(second run threw {e.GetType().Name}: {e.Message})"); }
            }
            if (again.Result.ToString() != ctx.Result.ToString())
            {
                report.Disagreements++;
                problem = "disagreement: the same input gave different results on two runs (the second with every block compiled)\n" + FirstDifference(ctx.Result.ToString(), again.Result.ToString());
            }
        }
        return problem is null ? null : new FuzzFailure(f.Name, options.Seed, index, problem, ctx.Input.ToString().TrimEnd());
    }

    private static string FirstDifference(string a, string b)
    {
        var la = a.Split('\n');
        var lb = b.Split('\n');
        for (int k = 0; k < Math.Max(la.Length, lb.Length); k++)
        {
            string x = k < la.Length ? la[k] : "(end)", y = k < lb.Length ? lb[k] : "(end)";
            if (x != y) return $"first run:  {x}\nsecond run: {y}";
        }
        return "(identical lines, different lengths)";
    }
}
