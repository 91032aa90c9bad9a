using System.Diagnostics;
using SyscallTools.Bench.Peers;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Exec;
using SyscallTools.Core.Linux.Models;

namespace SyscallTools.Bench.Workloads;

/// <summary>
/// W7: tests/fixtures/checksum.c built by gcc (-m32 -static and -static), run to its end with a fixed number of rounds:
/// in the emulator as Start-EmuProcess runs it (a fresh machine, exec, RunProcess with its observer), on the host, and
/// under QEMU user mode. Each figure is the whole program's wall time, start-up included, best of three; the ratio is
/// peer ÷ ours (above 1: we are ahead). The outputs must agree, or the row says so instead of a figure.
/// </summary>
public static class ChecksumProgram
{
    public static void Run(int rounds)
    {
        Console.WriteLine($"W7: the checksum fixture, {rounds} rounds of CRC-32 and Adler-32 over 16 KiB, whole-program wall time (best of 3)");
        string dir = Path.Combine(Path.GetTempPath(), "syscalltools-bench-fixtures");
        string? why = Build(dir);
        if (why is not null)
        {
            Console.WriteLine($"| W7 | skipped: {why} |");
            Console.WriteLine();
            return;
        }
        Console.WriteLine("| workload | peer | peer figure | ours | ratio (above 1: we are ahead) |");
        Console.WriteLine("|---|---|---:|---:|---:|");
        foreach (int bits in new[] { 32, 64 })
        {
            string w = $"W7-{bits}", file = Path.Combine(dir, $"checksum-{bits}");
            if (!File.Exists(file)) { Console.WriteLine($"| {w} | | skipped: {File.ReadAllText(Path.Combine(dir, "SKIPPED")).Trim()} | | |"); continue; }
            var (ours, output, instructions) = Emulated(file, bits, rounds);
            Report.Json(w, "ms_per_run", ours * 1e3);
            Report.Json(w + "-rate", "instructions_per_second", instructions / ours);
            Console.WriteLine($"| {w} | (ours) | {instructions / ours / 1e6:F1} M instr/s, {instructions:N0} instructions | {ours * 1e3:F1} ms | |");
            foreach (var (peer, exe, args) in new (string, string?, string[])[]
            {
                ("host", file, [rounds.ToString()]),
                ("qemu-user", QemuUser.Binary(bits), [file, rounds.ToString()]),
            })
            {
                if (exe is null) { Console.WriteLine($"| {w} | {peer} | skipped: {QemuUser.Missing(bits)} | | |"); continue; }
                var (seconds, peerOutput, error) = Native(exe, args);
                if (error is not null) { Console.WriteLine($"| {w} | {peer} | skipped: {error} | | |"); continue; }
                if (peerOutput != output) { Console.WriteLine($"| {w} | {peer} | outputs differ: {peerOutput.Trim()} vs ours {output.Trim()} | | |"); continue; }
                Console.WriteLine($"| {w} | {peer} | {seconds * 1e3:F1} ms | {ours * 1e3:F1} ms | {seconds / ours:F3} |");
                Report.Json(w, "ms_per_run", ours * 1e3, peer, seconds * 1e3);
            }
        }
        Console.WriteLine();
    }

    /// <summary>Runs tests/fixtures/build.sh; null when the checksum fixture exists afterwards.</summary>
    private static string? Build(string dir)
    {
        string? root = null;
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null && root is null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "tests", "fixtures", "build.sh"))) root = d.FullName;
        if (root is null) return "tests/fixtures/build.sh not found";
        if (!OperatingSystem.IsLinux()) return "the fixtures are Linux programs";
        var (_, _, error) = Native("/bin/sh", [Path.Combine(root, "tests", "fixtures", "build.sh"), dir], mustSucceed: true);
        return error is not null ? $"cannot build the C fixtures ({error})" : null;
    }

    private static (double Seconds, string Stdout, long Instructions) Emulated(string file, int bits, int rounds)
    {
        byte[] image = File.ReadAllBytes(file);
        double best = double.MaxValue;
        string output = "";
        long instructions = 0;
        for (int i = 0; i < 4; i++)   // the first run warms the JIT and is not counted
        {
            var clock = Stopwatch.StartNew();
            var m = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3, 64, bits);
            m.Exec(new ExecRequest { Image = image, Path = "/checksum", Argv = ["/checksum", rounds.ToString()] });
            var r = m.RunProcess(long.MaxValue / 2);
            double s = clock.Elapsed.TotalSeconds;
            if (r.ExitStatus != 0) throw new InvalidOperationException($"checksum-{bits} in the emulator: {r.Outcome} {r.NotModelledInstruction}");
            output = r.Stdout;
            instructions = r.Instructions;
            if (i > 0) best = Math.Min(best, s);
        }
        return (best, output, instructions);
    }

    private static (double Seconds, string Stdout, string? Error) Native(string exe, string[] args, bool mustSucceed = true)
    {
        double best = double.MaxValue;
        string stdout = "";
        for (int i = 0; i < (exe == "/bin/sh" ? 1 : 3); i++)
        {
            var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in args) psi.ArgumentList.Add(a);
            var clock = Stopwatch.StartNew();
            using var p = Process.Start(psi)!;
            var o = p.StandardOutput.ReadToEndAsync();
            var e = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(600_000)) { p.Kill(true); return (0, "", "timed out"); }
            double s = clock.Elapsed.TotalSeconds;
            if (mustSucceed && p.ExitCode != 0) return (0, "", $"{Path.GetFileName(exe)} exited with {p.ExitCode}: {e.Result.Trim()}");
            stdout = o.Result;
            best = Math.Min(best, s);
        }
        return (best, stdout, null);
    }
}
