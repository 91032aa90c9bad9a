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

/// <summary>Builds a ladder of checks like the kernel's: each one line, each with its reason.</summary>
public sealed class ExitLadder(string model, string fastInstruction)
{
    private readonly List<ExitCheck> _checks = new(8);
    private string? _failed;

    public ExitLadder Check(string name, string actual, string expected, bool passed, string why)
    {
        _checks.Add(new ExitCheck(name, actual, expected, passed, why));
        if (!passed) _failed ??= name;
        return this;
    }

    private ExitLadder Add(ExitCheck c)
    {
        _checks.Add(c);
        if (!c.Passed) _failed ??= c.Name;
        return this;
    }

    /// <summary>actual == expected.</summary>
    public ExitLadder Check(string name, ulong actual, ulong expected, string why) =>
        Add(new ExitCheck(name, actual, expected, CheckFormat.Hex, actual == expected, why));

    /// <summary>actual &lt; limit.</summary>
    public ExitLadder Below(string name, ulong actual, ulong limit, string why) =>
        Add(new ExitCheck(name, actual, limit, CheckFormat.Below, actual < limit, why));

    /// <summary>none of the flag bits set.</summary>
    public ExitLadder NoFlags(string name, ulong flags, ulong mask, string why) =>
        Add(new ExitCheck(name, flags & mask, 0, CheckFormat.Flags, (flags & mask) == 0, why));

    public ExitDecision Decide()
    {
        if (_failed is null) return new ExitDecision(fastInstruction, model, AllHold(fastInstruction), _checks);
        var f = _checks.First(c => c.Name == _failed);
        return new ExitDecision("IRET", model, $"{f.Name} failed: {f.Why}", _checks);
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
