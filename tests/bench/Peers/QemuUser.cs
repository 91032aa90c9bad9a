using System.Diagnostics;
using SyscallTools.Core.Host;

namespace SyscallTools.Bench.Peers;

/// <summary>
/// QEMU user mode (Debian's qemu-user: qemu-i386, qemu-x86_64) running the same ELF programs. Times are wall-clock
/// differences between a run with N iterations and one with none, so start-up and translation of the code cancel out.
/// </summary>
public static class QemuUser
{
    public static string? Binary(int bits)
    {
        string name = bits == 32 ? "qemu-i386" : "qemu-x86_64";
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            if (File.Exists(Path.Combine(dir, name))) return Path.Combine(dir, name);
        return null;
    }

    public static string? Missing(int bits) => !OperatingSystem.IsLinux() ? "QEMU user mode runs Linux programs on Linux hosts only"
        : Binary(bits) is null
        ? $"{(bits == 32 ? "qemu-i386" : "qemu-x86_64")} is not installed (Debian: apt-get install qemu-user)"
        : null;

    /// <summary>Seconds for the probe's work alone (best of three, less the best empty run); null when it does not run.</summary>
    public static double? Seconds(Func<long, ProbeProgram> probe, int bits, long iterations, out string? why)
    {
        why = Missing(bits);
        if (why is not null) return null;
        double? full = Best(probe(iterations), bits, out why), empty = Best(probe(0), bits, out string? why0);
        why ??= why0;
        return full is double f && empty is double e ? Math.Max(1e-9, f - e) : null;
    }

    private static double? Best(ProbeProgram probe, int bits, out string? why)
    {
        why = null;
        string dir = Directory.CreateTempSubdirectory("syscalltools-bench-").FullName;
        try
        {
            string exe = Path.Combine(dir, probe.Name);
            File.WriteAllBytes(exe, probe.Elf);
            // QEMU's loader, like the kernel's, refuses a file without execute permission (EACCES, exit status 1).
            if (OperatingSystem.IsLinux()) File.SetUnixFileMode(exe, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            double best = double.MaxValue;
            for (int i = 0; i < 3; i++)
            {
                var psi = new ProcessStartInfo(Binary(bits)!, exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                var clock = Stopwatch.StartNew();
                using var p = Process.Start(psi)!;
                // Read both pipes asynchronously so that the timeout below is a real bound on a program that hangs.
                var outTask = p.StandardOutput.ReadToEndAsync();
                var errTask = p.StandardError.ReadToEndAsync();
                if (!p.WaitForExit(120_000)) { p.Kill(true); why = "timed out"; return null; }
                string err = errTask.Result;
                _ = outTask.Result;
                double s = clock.Elapsed.TotalSeconds;
                if (p.ExitCode != 0) { why = $"{Path.GetFileName(Binary(bits))} {probe.Name} exited with {p.ExitCode}{(err.Length > 0 ? ": " + err.Trim() : "")}"; return null; }
                best = Math.Min(best, s);
            }
            return best;
        }
        finally { Directory.Delete(dir, true); }
    }
}
