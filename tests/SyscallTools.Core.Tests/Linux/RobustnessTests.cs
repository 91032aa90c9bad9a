using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Models;
using Xunit;

namespace SyscallTools.Core.Tests.LinuxTests;

/// <summary>Whatever user code does, the machine answers with a result: no host exception, no kernel oops, no hang.</summary>
public class RobustnessTests
{
    [Fact]
    public void RandomUserCodeNeverBreaksTheKernelOrTheHost()
    {
        var rng = new Random(20150917);
        var models = new[] { "linux-4.2", "linux-4.4", "linux-6.18" };
        for (int i = 0; i < 240; i++)
        {
            string model = models[i % 3];
            var profile = i % 2 == 0 ? CpuProfile.IntelSkylake : CpuProfile.AmdZen3;
            int kbits = i % 5 == 0 ? 32 : 64, tbits = kbits == 64 && i % 4 == 0 ? 64 : 32;
            var m = new LinuxMachine(KernelModel.Find(model)!, profile, kbits, tbits);
            // Random bytes, with a system-call instruction sprinkled in so the kernel paths get exercised too.
            var code = new byte[96];
            rng.NextBytes(code);
            byte[][] entries = [[0xCD, 0x80], [0x0F, 0x05], [0x0F, 0x34], [0xFF, 0x15, 0, 0, 0, 0]];
            for (int k = 0; k < 4; k++)
            {
                var e = entries[rng.Next(entries.Length)];
                int at = rng.Next(code.Length - e.Length);
                e.CopyTo(code, at);
            }
            var r = m.RunUserCode(code, cpu =>
            {
                for (int g = 0; g < 8; g++) if (g != 4) cpu[(Gpr)g] = (ulong)rng.NextInt64(0, 512);
            }, budget: 20_000);
            Assert.True(r.Oops is null, $"case {i} ({model}, {profile.Vendor}, {kbits}/{tbits}): {r.Oops}");
        }
    }

    [Fact]
    public void HugeMappingsAreRefusedNotAttempted()
    {
        var m = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3, 64, 64);
        var r = m.InvokeSyscall(9, [0, 1UL << 40, 3, 0x22, unchecked((ulong)-1L), 0]);   // mmap 1 TiB
        Assert.Equal("ENOMEM", r.Errno);
        var m32 = new LinuxMachine(new Linux618(), CpuProfile.AmdZen3);
        Assert.Equal("ENOMEM", m32.InvokeSyscall(192, [0, 0xF000_0000, 3, 0x22, unchecked((ulong)-1L), 0]).Errno);
    }
}
