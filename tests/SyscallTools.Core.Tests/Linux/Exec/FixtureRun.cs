using System.Text;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Exec;
using SyscallTools.Core.Linux.Models;

namespace SyscallTools.Core.Tests.LinuxTests.Exec;

/// <summary>Runs a fixture program in a fresh machine the way Start-EmuProcess does.</summary>
internal static class FixtureRun
{
    public static (LinuxMachine Machine, ProcessRunResult Result) Emulate(string path, int bits, CpuProfile profile,
        string model = "linux-6.18", int kernelBits = 64, string[]? args = null, string[]? env = null, string stdin = "",
        IReadOnlyDictionary<string, string>? files = null, long budget = 200_000_000)
    {
        var m = new LinuxMachine(KernelModel.Find(model)!, profile, kernelBits, bits);
        string name = "/" + System.IO.Path.GetFileName(path);
        m.Exec(new ExecRequest { Image = File.ReadAllBytes(path), Path = name, Argv = [name, .. args ?? []], Envp = env ?? [] });
        m.Task.Files[0] = new InputFile(Encoding.UTF8.GetBytes(stdin));
        foreach (var (p, text) in files ?? new Dictionary<string, string>()) m.Task.FileSystem.Add(p, Encoding.UTF8.GetBytes(text));
        return (m, m.RunProcess(budget));
    }

    public static int BitsOf(string variant) => variant.StartsWith("32", StringComparison.Ordinal) ? 32 : 64;
}
