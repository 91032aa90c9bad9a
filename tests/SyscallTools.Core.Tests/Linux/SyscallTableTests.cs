using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Core.Linux.Syscalls;
using Xunit;

namespace SyscallTools.Core.Tests.LinuxTests;

/// <summary>The syscall rows: numbers from syscall_32.tbl / syscall_64.tbl, and each handler's observable behaviour.</summary>
public class SyscallTableTests
{
    private static LinuxMachine M(int tbits = 32) => new(new Linux618(), CpuProfile.AmdZen3, 64, tbits);

    [Theory]
    [InlineData(SyscallAbi.I386, "restart_syscall", 0)]
    [InlineData(SyscallAbi.I386, "getpid", 20)]
    [InlineData(SyscallAbi.I386, "sigreturn", 119)]
    [InlineData(SyscallAbi.I386, "rt_sigreturn", 173)]
    [InlineData(SyscallAbi.I386, "mmap2", 192)]
    [InlineData(SyscallAbi.I386, "gettid", 224)]
    [InlineData(SyscallAbi.I386, "set_thread_area", 243)]
    [InlineData(SyscallAbi.I386, "exit_group", 252)]
    [InlineData(SyscallAbi.I386, "pselect6", 308)]
    [InlineData(SyscallAbi.I386, "open", 5)]
    [InlineData(SyscallAbi.I386, "time", 13)]
    [InlineData(SyscallAbi.I386, "alarm", 27)]
    [InlineData(SyscallAbi.I386, "ioctl", 54)]
    [InlineData(SyscallAbi.I386, "readlink", 85)]
    [InlineData(SyscallAbi.I386, "_llseek", 140)]
    [InlineData(SyscallAbi.I386, "writev", 146)]
    [InlineData(SyscallAbi.I386, "mremap", 163)]
    [InlineData(SyscallAbi.I386, "ugetrlimit", 191)]
    [InlineData(SyscallAbi.I386, "fstat64", 197)]
    [InlineData(SyscallAbi.I386, "set_tid_address", 258)]
    [InlineData(SyscallAbi.I386, "clock_gettime", 265)]
    [InlineData(SyscallAbi.I386, "openat", 295)]
    [InlineData(SyscallAbi.I386, "fstatat64", 300)]
    [InlineData(SyscallAbi.I386, "set_robust_list", 311)]
    [InlineData(SyscallAbi.I386, "prlimit64", 340)]
    [InlineData(SyscallAbi.I386, "getrandom", 355)]
    [InlineData(SyscallAbi.I386, "statx", 383)]
    [InlineData(SyscallAbi.I386, "rseq", 386)]
    [InlineData(SyscallAbi.I386, "clock_gettime64", 403)]
    [InlineData(SyscallAbi.X86_64, "fstat", 5)]
    [InlineData(SyscallAbi.X86_64, "lseek", 8)]
    [InlineData(SyscallAbi.X86_64, "ioctl", 16)]
    [InlineData(SyscallAbi.X86_64, "writev", 20)]
    [InlineData(SyscallAbi.X86_64, "mremap", 25)]
    [InlineData(SyscallAbi.X86_64, "alarm", 37)]
    [InlineData(SyscallAbi.X86_64, "readlink", 89)]
    [InlineData(SyscallAbi.X86_64, "getrlimit", 97)]
    [InlineData(SyscallAbi.X86_64, "time", 201)]
    [InlineData(SyscallAbi.X86_64, "set_tid_address", 218)]
    [InlineData(SyscallAbi.X86_64, "clock_gettime", 228)]
    [InlineData(SyscallAbi.X86_64, "openat", 257)]
    [InlineData(SyscallAbi.X86_64, "newfstatat", 262)]
    [InlineData(SyscallAbi.X86_64, "set_robust_list", 273)]
    [InlineData(SyscallAbi.X86_64, "prlimit64", 302)]
    [InlineData(SyscallAbi.X86_64, "getrandom", 318)]
    [InlineData(SyscallAbi.X86_64, "statx", 332)]
    [InlineData(SyscallAbi.X86_64, "rseq", 334)]
    [InlineData(SyscallAbi.X86_64, "rt_sigreturn", 15)]
    [InlineData(SyscallAbi.X86_64, "getpid", 39)]
    [InlineData(SyscallAbi.X86_64, "arch_prctl", 158)]
    [InlineData(SyscallAbi.X86_64, "restart_syscall", 219)]
    [InlineData(SyscallAbi.X86_64, "exit_group", 231)]
    public void NumbersMatchTheKernelTables(SyscallAbi abi, string name, int nr)
    {
        Assert.Equal(nr, SyscallTable.For(abi).ByName(name)!.Number);
        Assert.Equal(name, SyscallTable.For(abi).ByNumber(nr)!.Name);
    }

    [Fact]
    public void BrkGrowsAndShrinksTheHeap()
    {
        var m = M();
        long start = m.InvokeSyscall(45, [0]).Return;
        Assert.Equal((long)m.Task.BrkStart, start);
        Assert.Equal(start + 0x3000, m.InvokeSyscall(45, [(ulong)start + 0x3000]).Return);
        Assert.True(m.Memory.IsMapped((ulong)start + 0x2FFF));
        Assert.Equal(start + 0x1000, m.InvokeSyscall(45, [(ulong)start + 0x1000]).Return);
        Assert.False(m.Memory.IsMapped((ulong)start + 0x2000));
        Assert.Equal(start + 0x1000, m.InvokeSyscall(45, [0x10]).Return); // below the start: unchanged
    }

    [Fact]
    public void Mmap2MunmapAndMprotect()
    {
        var m = M();
        var ret = m.InvokeSyscall(192, [0, 0x2000, 3, 0x22, unchecked((ulong)-1L), 0]);        // PROT_READ|WRITE, PRIVATE|ANON
        Assert.Null(ret.Errno);                                                               // a high address is not an error
        long at = (uint)ret.Return;
        Assert.True(m.Memory.IsMapped((ulong)at));
        Assert.Equal(0, m.InvokeSyscall(125, [(ulong)at, 0x1000, 1]).Return);                  // read-only
        Assert.Equal(4, m.InvokeSyscall(4, [1, (ulong)at, 4]).Return);                         // still readable
        Assert.Equal(0, m.InvokeSyscall(91, [(ulong)at, 0x2000]).Return);
        Assert.False(m.Memory.IsMapped((ulong)at));
        Assert.Equal(-Errno.ENODEV, m.InvokeSyscall(192, [0, 0x1000, 3, 0x2, 5, 0]).Return);    // file-backed: no files here
        Assert.Equal(-Errno.EINVAL, m.InvokeSyscall(192, [0, 0, 3, 0x22, unchecked((ulong)-1L), 0]).Return);
    }

    /// <summary>
    /// sigaction (i386 67): struct old_sigaction is {handler, mask, flags, restorer} — mask second, unlike rt_sigaction's
    /// {handler, flags, restorer, mask}; the old action comes back in the same layout, and SIGKILL cannot be changed.
    /// </summary>
    [Fact]
    public void OldSigactionUsesItsOwnLayout()
    {
        var m = M();
        ulong act = m.UserDataArea, oact = m.UserDataArea + 0x40;
        m.Memory.WriteUInt32(act, 0x0804_8100); m.Memory.WriteUInt32(act + 4, 0x300 | (1u << 8)); // mask: signals 9 (dropped), 10
        m.Memory.WriteUInt32(act + 8, (uint)SignalAction.SaRestart); m.Memory.WriteUInt32(act + 12, 0x0804_8200);
        Assert.Equal(0, m.InvokeSyscall(67, [10, act, 0]).Return);
        var a = m.SignalState.Actions[10];
        Assert.Equal((0x0804_8100UL, SignalAction.SaRestart, 0x0804_8200UL, 0x200UL), (a.Handler, a.Flags, a.Restorer, a.Mask));
        Assert.Equal(0, m.InvokeSyscall(67, [10, 0, oact]).Return);
        Assert.Equal([0x0804_8100u, 0x200u, (uint)SignalAction.SaRestart, 0x0804_8200u],
            Enumerable.Range(0, 4).Select(i => m.Memory.ReadUInt32(oact + (ulong)(4 * i))).ToArray());
        Assert.Equal(-Errno.EINVAL, m.InvokeSyscall(67, [9, act, 0]).Return);
    }

    /// <summary>
    /// tls_desc_okay(): 16-bit, code and not-present TLS segments are -EINVAL (the selftest sigreturn's "[OK]
    /// set_thread_area refused 16-bit data"); LDT_empty() and an all-zero user_desc clear the slot.
    /// </summary>
    [Theory]
    [InlineData(0x0806_8000u, 0xFFFFu, 0x00u, -Errno.EINVAL)]   // gdt_data16_desc: 16-bit data
    [InlineData(0x0806_8000u, 0xFFFFu, 0x21u, -Errno.EINVAL)]   // gdt_npdata32_desc: 32-bit, not present
    [InlineData(0x0806_8000u, 0xFFFFu, 0x05u, -Errno.EINVAL)]   // 32-bit code (contents 2)
    [InlineData(0x0806_8000u, 0xFFFFu, 0x03u, 0L)]              // 32-bit expand-down data (contents 1) is data
    [InlineData(0u, 0u, 0x28u, 0L)]                             // LDT_empty: read_exec_only | seg_not_present
    [InlineData(0u, 0u, 0x00u, 0L)]                             // LDT_zero
    public void SetThreadAreaRefusesWhatTlsDescOkayRefuses(uint baseAddr, uint limit, uint flags, long expected)
    {
        var m = M();
        var desc = new byte[16];
        BitConverter.TryWriteBytes(desc.AsSpan(0), 12);
        BitConverter.TryWriteBytes(desc.AsSpan(4), baseAddr);
        BitConverter.TryWriteBytes(desc.AsSpan(8), limit);
        BitConverter.TryWriteBytes(desc.AsSpan(12), flags);
        m.Memory.WriteBytes(m.UserDataArea, desc);
        m.Memory.WriteUInt64(m.Cpu.Gdtr.Base + 12 * 8, 0x1122_3344_5566_7788);
        Assert.Equal(expected, m.InvokeSyscall(243, [m.UserDataArea]).Return);
        ulong now = m.Memory.ReadUInt64(m.Cpu.Gdtr.Base + 12 * 8);
        if (expected != 0) Assert.Equal(0x1122_3344_5566_7788UL, now);          // untouched
        else if (baseAddr == 0) Assert.Equal(0UL, now);                          // cleared
        else Assert.NotEqual(0UL, now);
    }

    [Fact]
    public void SetThreadAreaInstallsADescriptorUserCodeCanLoad()
    {
        var m = M();
        var desc = new byte[16];
        BitConverter.TryWriteBytes(desc.AsSpan(0), -1);           // entry_number: pick one
        BitConverter.TryWriteBytes(desc.AsSpan(4), 0x0806_0100u);  // base
        BitConverter.TryWriteBytes(desc.AsSpan(8), 0xFFFFFu);      // limit
        BitConverter.TryWriteBytes(desc.AsSpan(12), 0x51u);        // seg_32bit | limit_in_pages | useable
        m.Memory.WriteBytes(m.UserDataArea, desc);
        Assert.Equal(0, m.InvokeSyscall(243, [m.UserDataArea]).Return);
        uint entry = m.Memory.ReadUInt32(m.UserDataArea);
        Assert.Equal(12u, entry);                                 // GDT_ENTRY_TLS_MIN on a 64-bit kernel
        m.Memory.WriteUInt32(m.UserDataArea + 0x100, 0x1234_5678);
        // mov ax, (entry << 3) | 3; mov gs, ax; mov eax, gs:[0]
        byte[] code = [0x66, 0xB8, (byte)((entry << 3) | 3), 0x00, 0x8E, 0xE8, 0x65, 0xA1, 0, 0, 0, 0];
        var r = m.RunUserCode(code);
        Assert.Equal("ran to the end of the code", r.Outcome);
        Assert.Equal(0x1234_5678UL, r.After.Ax);
    }

    [Fact]
    public void PipeCarriesBytesAndPselectSeesThemReady()
    {
        var m = M();
        Assert.Equal(0, m.InvokeSyscall(42, [m.UserDataArea]).Return);
        uint rfd = m.Memory.ReadUInt32(m.UserDataArea), wfd = m.Memory.ReadUInt32(m.UserDataArea + 4);
        m.Memory.WriteBytes(m.UserDataArea + 0x100, "ping"u8);
        Assert.Equal(4, m.InvokeSyscall(4, [wfd, m.UserDataArea + 0x100, 4]).Return);
        m.Memory.WriteBytes(m.UserDataArea + 0x200, [(byte)(1 << (int)rfd)]);
        Assert.Equal(1, m.InvokeSyscall(308, [rfd + 1, m.UserDataArea + 0x200, 0, 0, 0, 0]).Return);
        Assert.Equal(4, m.InvokeSyscall(3, [rfd, m.UserDataArea + 0x300, 16]).Return);
        Assert.Equal("ping"u8.ToArray(), m.Memory.ReadBytes(m.UserDataArea + 0x300, 4));
        Assert.Equal(-Errno.EAGAIN, m.InvokeSyscall(3, [rfd, m.UserDataArea + 0x300, 16]).Return);
    }

    [Fact]
    public void UnameSaysLinuxAndTheModelsRelease()
    {
        var m = new LinuxMachine(new Linux44(), CpuProfile.IntelSkylake, 64, 64);
        Assert.Equal(0, m.InvokeSyscall(63, [0x60_0000]).Return);
        Assert.Equal("Linux", System.Text.Encoding.ASCII.GetString(m.Memory.ReadBytes(0x60_0000, 5)));
        Assert.Equal("4.4.0", System.Text.Encoding.ASCII.GetString(m.Memory.ReadBytes(0x60_0000 + 130, 5)));
    }

    [Fact]
    public void NanosleepAdvancesVirtualTimeOnly()
    {
        var m = M();
        m.Memory.WriteUInt32(m.UserDataArea, 3);
        m.Memory.WriteUInt32(m.UserDataArea + 4, 500);
        Assert.Equal(0, m.InvokeSyscall(162, [m.UserDataArea, 0]).Return);
        Assert.Equal(3_000_000_500UL, m.Task.VirtualTimeNs);
    }

    [Fact]
    public void ExitGroupEndsTheTaskAndAFurtherCallIsRefused()
    {
        var m = M(64);
        var r = m.InvokeSyscall(231, [7]);
        Assert.True(r.TaskExited);
        Assert.Equal(7, m.Task.ExitStatus);
        Assert.Throws<InvalidOperationException>(() => m.InvokeSyscall(39));
    }

    [Fact]
    public void SigprocmaskBlocksAndTgkillKillsWhenUnblocked()
    {
        var m = M();
        m.Memory.WriteUInt64(m.UserDataArea, 1UL << (Signal.SIGUSR1 - 1));
        Assert.Equal(0, m.InvokeSyscall(175, [0, m.UserDataArea, 0, 8]).Return);             // SIG_BLOCK SIGUSR1
        var r = m.InvokeSyscall(270, [4242, 4242, (ulong)Signal.SIGUSR1]);
        Assert.True(r.Completed);                                                             // blocked: still pending
        Assert.False(m.Task.Exited);
        r = m.InvokeSyscall(175, [1, m.UserDataArea, 0, 8]);                                  // SIG_UNBLOCK: delivered on the way out
        Assert.Equal("SIGUSR1", r.Signal);
        Assert.Equal(Signal.SIGUSR1, m.Task.KilledBy);
    }
}
