using System.Diagnostics;

namespace SyscallTools.Core.Tests.ElfTests;

/// <summary>
/// Runs GNU binutils (readelf, objdump) as an independent judge of the ELF code. Tests that need them
/// return early, saying so in their output, when the tool is not on PATH.
/// </summary>
internal static class Binutils
{
    public static string? Find(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, tool))
            .FirstOrDefault(File.Exists);

    public sealed record Result(int ExitCode, string Out, string Err);

    public static Result Run(string toolPath, params string[] args)
    {
        var psi = new ProcessStartInfo(toolPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        // The C locale keeps readelf's messages in English, which the assertions read.
        psi.Environment["LC_ALL"] = "C";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000))
        {
            p.Kill();
            throw new TimeoutException($"{toolPath} {string.Join(' ', args)} did not finish");
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Writes <paramref name="image"/> to a fresh temporary file, runs <paramref name="body"/> on its path, deletes it.</summary>
    public static T WithTempFile<T>(byte[] image, Func<string, T> body)
    {
        var path = Path.Combine(Path.GetTempPath(), $"syscalltools-elf-{Guid.NewGuid():N}.so");
        File.WriteAllBytes(path, image);
        try { return body(path); }
        finally { File.Delete(path); }
    }
}
