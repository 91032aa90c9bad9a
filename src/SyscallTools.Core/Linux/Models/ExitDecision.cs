namespace SyscallTools.Core.Linux.Models;

/// <summary>One condition of an exit policy, as the kernel evaluates it: what was found, what was needed.</summary>
public sealed record ExitCheck(string Name, string Actual, string Expected, bool Passed, string Why)
{
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
    private readonly List<ExitCheck> _checks = new();
    private string? _failed;

    public ExitLadder Check(string name, string actual, string expected, bool passed, string why)
    {
        _checks.Add(new ExitCheck(name, actual, expected, passed, why));
        if (!passed) _failed ??= $"{name} failed: {why}";
        return this;
    }

    public ExitLadder Check(string name, ulong actual, ulong expected, string why) =>
        Check(name, $"0x{actual:x}", $"0x{expected:x}", actual == expected, why);

    public ExitDecision Decide() => _failed is null
        ? new ExitDecision(fastInstruction, model, $"every condition for {fastInstruction} holds", _checks)
        : new ExitDecision("IRET", model, _failed, _checks);

    /// <summary>For paths that never try the fast exit (int $0x80, or a pre-rewrite slow path).</summary>
    public static ExitDecision AlwaysIret(string model, string reason, params ExitCheck[] checks) => new("IRET", model, reason, checks);
}
