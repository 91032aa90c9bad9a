using System.Diagnostics;
using System.Text;
using Xunit;

namespace SyscallTools.Core.Tests.Support;

/// <summary>
/// The C fixtures of tests/fixtures, built once per test run by tests/fixtures/build.sh (gcc -static, -m32 -static,
/// -static-pie) into a directory under the system temp directory keyed by this checkout, and run on the host for the
/// expected output. Nothing built is committed. Where gcc or a 32-bit libc is missing, the tests that need them skip
/// and say why.
/// </summary>
public static class Fixtures
{
    public static readonly string[] Variants = ["32", "64", "32pie", "64pie"];

    private static readonly Lazy<(string? Dir, string? Why)> Built = new(Build);

    /// <summary>Why no fixture can be run here, or null.</summary>
    public static string? Unavailable => Built.Value.Why;

    /// <summary>The built file, or null when that variant could not be built.</summary>
    public static string? PathOf(string name, string variant)
    {
        if (Built.Value.Dir is not string dir) return null;
        string p = System.IO.Path.Combine(dir, $"{name}-{variant}");
        return File.Exists(p) ? p : null;
    }

    /// <summary>Why a variant is missing (from build.sh's SKIPPED file), or null when it was built.</summary>
    public static string? VariantMissing(string variant)
    {
        if (Unavailable is string why) return why;
        if (PathOf("hello", variant) is not null) return null;
        string skipped = System.IO.Path.Combine(Built.Value.Dir!, "SKIPPED");
        var line = File.Exists(skipped) ? File.ReadLines(skipped).FirstOrDefault(l => l.StartsWith(variant + ":", StringComparison.Ordinal)) : null;
        return line ?? $"the {variant} fixtures were not built";
    }

    public static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(System.IO.Path.Combine(d.FullName, "tests", "fixtures", "build.sh"))) return d.FullName;
        throw new InvalidOperationException("tests/fixtures/build.sh not found above " + AppContext.BaseDirectory);
    }

    private static (string?, string?) Build()
    {
        if (!OperatingSystem.IsLinux()) return (null, "the fixtures are Linux programs: this host is not Linux");
        string root = RepositoryRoot();
        uint h = 2166136261;
        foreach (char ch in root) h = (h ^ ch) * 16777619;
        string dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"syscalltools-fixtures-{h:x8}");
        var (code, _, err) = Run("/bin/sh", [System.IO.Path.Combine(root, "tests", "fixtures", "build.sh"), dir], [], [], 600_000);
        return code switch
        {
            0 => (dir, null),
            2 or 3 => (null, "cannot build the C fixtures: " + err.Trim()),
            _ => (null, $"tests/fixtures/build.sh failed ({code}): {err.Trim()}"),
        };
    }

    /// <summary>Runs a program on the host with exactly this environment and input: (exit code, stdout, stderr).</summary>
    public static (int Code, string Stdout, string Stderr) Run(string file, IEnumerable<string> args, IEnumerable<string> env, byte[] stdin, int timeoutMs = 60_000)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (file != "/bin/sh")
        {
            psi.Environment.Clear();
            foreach (var e in env) { int i = e.IndexOf('='); psi.Environment[e[..i]] = e[(i + 1)..]; }
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardInput.BaseStream.Write(stdin);
        p.StandardInput.Close();
        if (!p.WaitForExit(timeoutMs)) { p.Kill(); throw new TimeoutException($"{file} ran past {timeoutMs} ms"); }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private static readonly Dictionary<string, (int, string, string)> HostRuns = new();

    /// <summary>The host's run of a fixture, cached (the signal fixture waits a real second for its alarm).</summary>
    public static (int Code, string Stdout, string Stderr) OnHost(string path, string[] args, string[] env, string stdin)
    {
        string key = path + "\0" + string.Join('\0', args) + "\0" + string.Join('\0', env) + "\0" + stdin;
        lock (HostRuns)
        {
            if (!HostRuns.TryGetValue(key, out var r)) HostRuns[key] = r = Run(path, args, env, Encoding.UTF8.GetBytes(stdin));
            return r;
        }
    }
}

/// <summary>A theory over built fixtures; skipped, with the reason, where none can be built.</summary>
public sealed class FixtureTheoryAttribute : TheoryAttribute
{
    public FixtureTheoryAttribute()
    {
        if (Fixtures.Unavailable is string why) Skip = why;
    }
}

/// <summary>A fact that needs one fixture variant (e.g. "32" needs gcc-multilib); skipped with the reason when it is missing.</summary>
public sealed class FixtureFactAttribute : FactAttribute
{
    public FixtureFactAttribute(string variant = "64")
    {
        if (Fixtures.VariantMissing(variant) is string why) Skip = why;
    }
}
