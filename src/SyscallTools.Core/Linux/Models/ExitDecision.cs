namespace SyscallTools.Core.Linux.Models;

/// <summary>How a check's values read as text.</summary>
public enum CheckFormat : byte { Hex, Flags, Below, Text }

/// <summary>One condition of an exit policy, as the kernel evaluates it: what was found, what was needed.</summary>
/// <remarks>Values are kept as numbers and turned into text only when read: the policy runs on every system call.</remarks>
public sealed class ExitCheck
{
    private readonly string? _actualText, _expectedText;
    private readonly ulong _actual, _expected;
    private readonly CheckFormat _format;

    public ExitCheck(string name, string actual, string expected, bool passed, string why)
    {
        Name = name; _actualText = actual; _expectedText = expected; Passed = passed; Why = why; _format = CheckFormat.Text;
    }

    internal ExitCheck(string name, ulong actual, ulong expected, CheckFormat format, bool passed, string why)
    {
        Name = name; _actual = actual; _expected = expected; _format = format; Passed = passed; Why = why;
    }

    public string Name { get; }
    public bool Passed { get; }
    public string Why { get; }

    public string Actual => _format switch
    {
        CheckFormat.Text => _actualText!,
        CheckFormat.Flags => Cpu.RFlags.Describe(_actual),
        _ => $"0x{_actual:x}",
    };

    public string Expected => _format switch
    {
        CheckFormat.Text => _expectedText!,
        CheckFormat.Flags => "0",
        CheckFormat.Below => $"< 0x{_expected:x}",
        _ => $"0x{_expected:x}",
    };

    public override string ToString() => $"{(Passed ? "ok  " : "FAIL")} {Name}: {Actual} (needs {Expected}) — {Why}";
}

/// <summary>
/// The exit policy's answer: which instruction leaves the kernel, why, and every check in the order the kernel
/// evaluates them. The first failing check decides; checks after it are still listed (marked as not reached).
/// </summary>
public sealed record ExitDecision(string Instruction, string Model, string Reason, IReadOnlyList<ExitCheck> Checks)
{
    public bool Fast => Instruction != "IRET";
}

/// <summary>
/// Builds a ladder of checks like the kernel's: each one line, each with its reason. A ladder can be re-used: the
/// machine keeps one per exit path and asks <see cref="KernelModel"/> to refill it on every system call. When the checks
/// come out exactly as last time (the usual case in a loop of calls), <see cref="Decide"/> returns the same immutable
/// decision instead of building the checks, their list and the decision again; any difference builds a new one.
/// </summary>
public sealed class ExitLadder
{
    /// <summary>A check as numbers and references, before it is turned into an <see cref="ExitCheck"/>.</summary>
    private struct Pending
    {
        public string Name, Why;
        public string? ActualText, ExpectedText;
        public ulong Actual, Expected;
        public CheckFormat Format;
        public bool Passed;

        // The texts are nearly always the same literals as last time: a reference test first, the ordinal comparison only
        // when the references differ (string.Equals(string, string) is ordinal).
        public readonly bool Same(in Pending o) =>
            Actual == o.Actual && Expected == o.Expected && Format == o.Format && Passed == o.Passed
            && SameText(Name, o.Name) && SameText(Why, o.Why) && SameText(ActualText, o.ActualText) && SameText(ExpectedText, o.ExpectedText);

        private static bool SameText(string? a, string? b) => ReferenceEquals(a, b) || string.Equals(a, b);

        public readonly ExitCheck ToCheck() => Format == CheckFormat.Text
            ? new ExitCheck(Name, ActualText!, ExpectedText!, Passed, Why)
            : new ExitCheck(Name, Actual, Expected, Format, Passed, Why);
    }

    private Pending[] _pending = new Pending[8];
    private int _count;
    private int _failedAt;
    private string _model = "", _fast = "";

    // The last decision this ladder made, and the checks it was made from.
    private Pending[] _lastPending = new Pending[8];
    private int _lastCount;
    private string? _lastModel, _lastFast;
    private ExitDecision? _last;

    // While every check so far equals the last decision's check at the same place, nothing is stored: a Pending holds
    // strings, and writing one into an array costs a GC write barrier per reference — the hot path must not pay that.
    private bool _matching;

    public ExitLadder(string model, string fastInstruction) => Begin(model, fastInstruction);

    /// <summary>Starts a new ladder in this object (the previous decision is kept for comparison).</summary>
    public ExitLadder Begin(string model, string fastInstruction)
    {
        _model = model;
        _fast = fastInstruction;
        _count = 0;
        _failedAt = -1;
        _matching = _last is not null && model == _lastModel && fastInstruction == _lastFast;
        return this;
    }

    private ExitLadder Add(in Pending c)
    {
        if (_matching)
        {
            if (_count < _lastCount && c.Same(_lastPending[_count]))
            {
                if (!c.Passed && _failedAt < 0) _failedAt = _count;
                _count++;
                return this;
            }
            // The first difference: from here on the ladder is built for real, starting with the checks that matched.
            _matching = false;
            if (_pending.Length < Math.Max(_count + 1, _lastPending.Length)) _pending = new Pending[Math.Max(_count + 1, _lastPending.Length) * 2];
            Array.Copy(_lastPending, _pending, _count);
        }
        if (_count == _pending.Length) Array.Resize(ref _pending, _count * 2);
        _pending[_count] = c;
        if (!c.Passed && _failedAt < 0) _failedAt = _count;
        _count++;
        return this;
    }

    public ExitLadder Check(string name, string actual, string expected, bool passed, string why) =>
        Add(new Pending { Name = name, ActualText = actual, ExpectedText = expected, Format = CheckFormat.Text, Passed = passed, Why = why });

    /// <summary>actual == expected.</summary>
    public ExitLadder Check(string name, ulong actual, ulong expected, string why) =>
        Add(new Pending { Name = name, Actual = actual, Expected = expected, Format = CheckFormat.Hex, Passed = actual == expected, Why = why });

    /// <summary>actual &lt; limit.</summary>
    public ExitLadder Below(string name, ulong actual, ulong limit, string why) =>
        Add(new Pending { Name = name, Actual = actual, Expected = limit, Format = CheckFormat.Below, Passed = actual < limit, Why = why });

    /// <summary>none of the flag bits set.</summary>
    public ExitLadder NoFlags(string name, ulong flags, ulong mask, string why) =>
        Add(new Pending { Name = name, Actual = flags & mask, Format = CheckFormat.Flags, Passed = (flags & mask) == 0, Why = why });

    public ExitDecision Decide()
    {
        if (_matching && _count == _lastCount) return _last!;
        if (_matching)
        {
            // A prefix of the last ladder: copy it before building.
            Array.Copy(_lastPending, _pending, _count);
            _matching = false;
        }
        // Checks equal to the last decision's at the same place are the same immutable objects: re-use them, so a
        // decision that differs in one value (64-bit SYSCALL's r11 == flags shows the flags) allocates one check.
        var checks = new ExitCheck[_count];
        var previous = _last?.Checks;
        for (int i = 0; i < _count; i++)
            checks[i] = previous is not null && i < _lastCount && i < previous.Count && _pending[i].Same(_lastPending[i])
                ? previous[i]
                : _pending[i].ToCheck();
        var d = _failedAt < 0
            ? new ExitDecision(_fast, _model, AllHold(_fast), checks)
            : new ExitDecision("IRET", _model, $"{checks[_failedAt].Name} failed: {checks[_failedAt].Why}", checks);
        // The new decision becomes the one to compare with: swap the buffers rather than copy.
        (_lastPending, _pending) = (_pending, _lastPending);
        (_lastCount, _lastModel, _lastFast, _last) = (_count, _model, _fast, d);
        return d;
    }

    private static string AllHold(string instruction) => instruction switch
    {
        "SYSRETQ" => "every condition for SYSRETQ holds",
        "SYSRETL" => "every condition for SYSRETL holds",
        "SYSEXIT" => "every condition for SYSEXIT holds",
        _ => $"every condition for {instruction} holds",
    };

    /// <summary>For paths that never try the fast exit (int $0x80, or a pre-rewrite slow path).</summary>
    public static ExitDecision AlwaysIret(string model, string reason, params ExitCheck[] checks) => new("IRET", model, reason, checks);
}
