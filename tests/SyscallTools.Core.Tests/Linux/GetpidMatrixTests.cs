using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Models;
using Xunit;

namespace SyscallTools.Core.Tests.LinuxTests;

/// <summary>
/// getpid through every model × vendor × kernel bitness × entry method, with sentinel values in every register.
/// The expected entry and exit instructions, return addresses and register effects come from the kernel sources
/// summarised in ../shared/reference/kernel-semantics.md (§1 hardware, §2–§4 entry code, §4f exit table) — they
/// are written out here, not derived from the model.
/// </summary>
public class GetpidMatrixTests
{
    public static TheoryData<string, string, int, int, EntryMethod> Cases()
    {
        var d = new TheoryData<string, string, int, int, EntryMethod>();
        foreach (var model in new[] { "linux-4.2", "linux-4.4", "linux-6.18" })
            foreach (var vendor in new[] { "intel", "amd" })
                foreach (int kbits in new[] { 64, 32 })
                {
                    foreach (var via in Enum.GetValues<EntryMethod>()) d.Add(model, vendor, kbits, 32, via);
                    if (kbits == 64) { d.Add(model, vendor, kbits, 64, EntryMethod.Syscall); d.Add(model, vendor, kbits, 64, EntryMethod.Int80); }
                }
        return d;
    }

    /// <summary>What the hardware supports (§1.2, §1.4): the fault a raw entry instruction takes, or null.</summary>
    private static bool RawEntryFaults(string vendor, int kbits, EntryMethod via) => via switch
    {
        // 32-bit SYSCALL: Intel only in 64-bit mode; a 32-bit kernel never sets EFER.SCE.
        EntryMethod.Syscall => vendor == "intel" || kbits == 32,
        // SYSENTER: AMD not in long mode.
        EntryMethod.Sysenter => vendor == "amd" && kbits == 64,
        _ => false,
    };

    /// <summary>Which instruction __kernel_vsyscall ends up using (§2d, §3b, §4d).</summary>
    private static string VdsoEntry(string vendor, int kbits) =>
        kbits == 32 ? "SYSENTER" : vendor == "intel" ? "SYSENTER" : "SYSCALL";

    [Theory]
    [MemberData(nameof(Cases))]
    public void Getpid(string model, string vendor, int kbits, int tbits, EntryMethod via)
    {
        var m = new LinuxMachine(KernelModel.Find(model)!, vendor == "intel" ? CpuProfile.IntelSkylake : CpuProfile.AmdZen3, kbits, tbits);
        // getpid is 20 in the i386 table (which int $0x80 uses even from 64-bit code) and 39 in the x86-64 one.
        var r = m.InvokeSyscall(tbits == 64 && via != EntryMethod.Int80 ? 39 : 20, via: via);

        if (tbits == 32 && RawEntryFaults(vendor, kbits, via))
        {
            // #UD in user mode becomes SIGILL, and SIGILL's default action kills the task.
            Assert.Equal(Vector.UD, r.Fault?.Vector ?? (byte)0xFF);
            Assert.Equal("SIGILL", r.Signal);
            Assert.True(r.TaskExited);
            Assert.Null(r.ExitInstruction);
            return;
        }

        Assert.True(r.Completed, r.Outcome);
        Assert.Equal(4242, r.Return);
        Assert.Null(r.Errno);

        string entry = via switch
        {
            EntryMethod.Int80 => "INT 0x80",
            EntryMethod.Vdso => VdsoEntry(vendor, kbits),
            EntryMethod.Sysenter => "SYSENTER",
            _ => "SYSCALL",
        };
        Assert.Equal(entry, r.EntryInstruction);

        string exit = entry switch
        {
            "INT 0x80" => "IRET",
            "SYSCALL" when tbits == 64 => "SYSRETQ",
            _ => kbits == 64 ? "SYSRETL" : "SYSEXIT", // a 64-bit kernel returns SYSENTER entries with SYSRETL too
        };
        Assert.Equal(exit, r.ExitInstruction);
        Assert.Equal(exit, r.ExitPath?.Instruction);

        var before = r.Before.ByName();
        var after = r.After.ByName();
        if (tbits == 32)
        {
            // The caller's view: everything but eax as it was (the vDSO's pops restore ecx and edx).
            foreach (var reg in new[] { "bx", "cx", "dx", "si", "di", "bp", "sp" })
                Assert.True((uint)before[reg] == (uint)after[reg], $"{reg}: 0x{before[reg]:x} -> 0x{after[reg]:x}");
        }
        else
        {
            foreach (var reg in new[] { "bx", "dx", "si", "di", "bp", "sp", "r12", "r13", "r14", "r15" })
                Assert.True(before[reg] == after[reg], $"{reg}: 0x{before[reg]:x} -> 0x{after[reg]:x}");
            if (entry == "SYSCALL")
            {
                // SYSCALL/SYSRETQ: rcx = the return RIP, r11 = RFLAGS; r8-r10 preserved.
                Assert.Equal(after["ip"], after["cx"]);
                Assert.Equal(after["flags"] & ~RFlags.RF, after["r11"]);
                foreach (var reg in new[] { "r8", "r9", "r10" }) Assert.Equal(before[reg], after[reg]);
            }
            else
            {
                // int $0x80 from 64-bit code: before 4.17 the compat entry stored zeros for r8-r11 (so they come back 0);
                // 6.x preserves them. rcx is restored from pt_regs either way.
                bool zeroed = model != "linux-6.18";
                foreach (var reg in new[] { "r8", "r9", "r10", "r11" })
                    Assert.Equal(zeroed ? 0UL : before[reg], after[reg]);
                Assert.Equal(before["cx"], after["cx"]);
            }
        }
    }

    [Theory]
    [InlineData("linux-6.18", "intel")]
    [InlineData("linux-6.18", "amd")]
    [InlineData("linux-4.4", "amd")]
    public void FastEntriesReturnThroughTheLandingPad(string model, string vendor)
    {
        var m = new LinuxMachine(KernelModel.Find(model)!, vendor == "intel" ? CpuProfile.IntelSkylake : CpuProfile.AmdZen3);
        var r = m.InvokeSyscall(20, via: EntryMethod.Vdso, trace: true);
        var exit = r.Trace!.Last(e => e.Kind == "far");
        // The landing pad is the instruction after the vDSO's int $0x80: __kernel_vsyscall + 9 (§2d).
        Assert.Contains($"b7ff0409", exit.Text);
        Assert.Equal(m.KernelVsyscall + 9, m.LandingPad);
        Assert.Equal(0xCD, m.Memory.ReadBytes(m.LandingPad - 2, 1)[0]); // IP-2 is a real int $0x80
        Assert.Equal(0x80, m.Memory.ReadBytes(m.LandingPad - 1, 1)[0]);
    }

    [Theory]
    [InlineData("intel", "sysenter", 16)]
    [InlineData("amd", "syscall", 5)]
    public void PreRewriteFastEntriesReturnWhereTheirImageSays(string vendor, string flavor, int returnOffset)
    {
        // v4.2: SYSENTER returns to SYSENTER_RETURN (offset 16, behind seven NOPs and an int $0x80); the syscall
        // image's SYSCALL returns to the instruction after itself (§3b).
        var m = new LinuxMachine(new Linux42(), vendor == "intel" ? CpuProfile.IntelSkylake : CpuProfile.AmdZen3);
        Assert.Equal(flavor, m.Vdso!.Flavor);
        var r = m.InvokeSyscall(20, via: EntryMethod.Vdso, trace: true);
        var exit = r.Trace!.Last(e => e.Kind == "far");
        Assert.Contains($"{m.KernelVsyscall + (ulong)returnOffset:x}", exit.Text);
    }

    [Fact]
    public void ResultsAreIdenticalRunToRun()
    {
        SyscallResult Once() => new LinuxMachine(new Linux618(), CpuProfile.AmdZen3).InvokeSyscall(20, trace: true);
        var a = Once();
        var b = Once();
        Assert.Equal(a.Trace!.Select(e => e.ToString()), b.Trace!.Select(e => e.ToString()));
        Assert.Equal(a.After, b.After);
        Assert.Equal(a.KernelInstructions, b.KernelInstructions);
    }
}
