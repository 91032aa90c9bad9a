using SyscallTools.Core.Cpu;
using SyscallTools.Core.Tests.Support;
using Xunit;

namespace SyscallTools.Core.Tests.LinuxTests.Exec;

/// <summary>
/// Each C fixture, built by gcc for i386 and x86-64 (static and static-PIE), runs in the emulator to the same standard
/// output, standard error and exit status as the very same file run on this machine's kernel. The host is the oracle:
/// nothing here is compared with the emulator's own earlier output.
/// </summary>
public class ProgramAgreementTests
{
    public static TheoryData<string, string, string> Cases()
    {
        var d = new TheoryData<string, string, string>();
        foreach (var variant in Fixtures.Variants)
        {
            if (Fixtures.PathOf("hello", variant) is null) continue;
            foreach (var fixture in new[] { "hello", "syscall_loop", "checksum", "signal_read", "cat_file", "fpu_signal" })
            {
                d.Add(fixture, variant, "AMD");
                // Intel takes the other fast entry (SYSENTER for 32-bit tasks): once per bitness is enough.
                if (variant is "32" or "64") d.Add(fixture, variant, "Intel");
            }
        }
        return d;
    }

    /// <summary>Arguments, environment and input that make each fixture show what exec and the syscalls gave it.</summary>
    private static (string[] Args, string[] Env, string Stdin) Inputs(string fixture) => fixture switch
    {
        "hello" => (["one", "two words", ""], ["FIXTURE_WHO=the emulator", "LANG=C"], ""),
        "checksum" => (["3"], [], ""),
        "cat_file" => ([], [], "a line on standard input\nand a second one\n"),
        _ => ([], [], ""),
    };

    [FixtureTheory]
    [MemberData(nameof(Cases))]
    public void A_fixture_runs_to_the_hosts_output_and_status(string fixture, string variant, string vendor)
    {
        string path = Fixtures.PathOf(fixture, variant)!;
        var (args, env, stdin) = Inputs(fixture);
        var host = Fixtures.OnHost(path, args, env, stdin);
        var profile = vendor == "AMD" ? CpuProfile.AmdZen3 : CpuProfile.IntelSkylake;
        var (_, emu) = FixtureRun.Emulate(path, FixtureRun.BitsOf(variant), profile, args: args, env: env, stdin: stdin);
        Assert.Null(emu.NotModelledInstruction);
        Assert.True(emu.Exited, emu.Outcome);
        Assert.Null(emu.Signal);
        Assert.Equal(host.Stdout, emu.Stdout);
        Assert.Equal(host.Stderr, emu.Stderr);
        Assert.Equal(host.Code, emu.ExitStatus);
    }

    [FixtureFact("32")]
    public void A_file_of_the_virtual_file_system_reads_like_a_host_file()
    {
        string path = Fixtures.PathOf("cat_file", "32")!;
        string text = "contents of a file\nwith two lines\n";
        string hostFile = System.IO.Path.GetTempFileName();
        try
        {
            File.WriteAllText(hostFile, text);
            var host = Fixtures.OnHost(path, [hostFile], [], "");
            var (_, emu) = FixtureRun.Emulate(path, 32, CpuProfile.AmdZen3, args: ["/data/in.txt"],
                files: new Dictionary<string, string> { ["/data/in.txt"] = text });
            Assert.Equal(text, host.Stdout);
            Assert.Equal(host.Stdout, emu.Stdout);
            Assert.Equal(host.Stderr, emu.Stderr);
            Assert.Equal(host.Code, emu.ExitStatus);
            Assert.Contains(emu.Syscalls, s => s.Name == "openat" && s.Return == 3);
        }
        finally { File.Delete(hostFile); }
    }

    [FixtureFact("32")]
    public void A_missing_file_fails_as_on_the_host()
    {
        string path = Fixtures.PathOf("cat_file", "32")!;
        var host = Fixtures.OnHost(path, ["/nonexistent/syscalltools-test"], [], "");
        var (_, emu) = FixtureRun.Emulate(path, 32, CpuProfile.AmdZen3, args: ["/nonexistent/syscalltools-test"]);
        Assert.Equal(3, host.Code);
        Assert.Equal(host.Stderr, emu.Stderr);           // perror: "open: No such file or directory"
        Assert.Equal(host.Code, emu.ExitStatus);
    }
}
