using System.Text;
using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux;
using SyscallTools.Core.Linux.Models;
using Xunit;

namespace SyscallTools.Core.Tests.LinuxTests;

/// <summary>The calls libc makes at start-up and for ordinary I/O, one rule of the kernel's each.</summary>
public class StartupSyscallTests
{
    private static LinuxMachine M(int bits = 32) => new(new Linux618(), CpuProfile.AmdZen3, 64, bits);
    private static ulong Buf(LinuxMachine m) => m.UserDataArea + 0x100;
    private static ulong U(long v) => unchecked((ulong)v);

    [Fact]
    public void set_robust_list_wants_the_ABIs_head_size_and_set_tid_address_returns_the_tid()
    {
        var m32 = M();
        Assert.Equal(-Errno.EINVAL, m32.InvokeSyscall(311, [Buf(m32), 24]).Return);   // 24 is the 64-bit head
        Assert.Equal(0, m32.InvokeSyscall(311, [Buf(m32), 12]).Return);
        var m64 = M(64);
        Assert.Equal(0, m64.InvokeSyscall(273, [Buf(m64), 24]).Return);
        Assert.Equal(m64.Task.Tid, m64.InvokeSyscall(218, [Buf(m64)]).Return);
        Assert.Equal(Buf(m64), m64.Task.ClearChildTid);
    }

    [Fact]
    public void getrandom_rejects_unknown_flags_and_is_the_same_on_every_machine()
    {
        var a = M(); var b = M();
        Assert.Equal(-Errno.EINVAL, a.InvokeSyscall(355, [Buf(a), 8, 8]).Return);
        Assert.Equal(-Errno.EINVAL, a.InvokeSyscall(355, [Buf(a), 8, 6]).Return);    // GRND_INSECURE | GRND_RANDOM
        Assert.Equal(16, a.InvokeSyscall(355, [Buf(a), 16, 1]).Return);
        Assert.Equal(16, b.InvokeSyscall(355, [Buf(b), 16, 1]).Return);
        var x = a.Memory.ReadBytes(Buf(a), 16);
        Assert.Equal(x, b.Memory.ReadBytes(Buf(b), 16));
        Assert.Contains(x, v => v != 0);
    }

    [Fact]
    public void RLIMIT_NOFILE_refuses_a_descriptor_at_the_limit_for_open_and_for_either_end_of_a_pipe()
    {
        // alloc_fd: "if (fd >= end) goto out" with end = rlimit(RLIMIT_NOFILE) gives -EMFILE, and pipe2 allocates both
        // of its descriptors that way, so a limit one above the lowest free descriptor refuses a pipe but not an open.
        var m = M();
        int free = 0;
        while (m.Task.Files.ContainsKey(free)) free++;
        ulong rlim = Buf(m) + 0x80, path = Buf(m) + 0xC0;
        m.Memory.WriteUInt64(rlim, (ulong)free + 1); m.Memory.WriteUInt64(rlim + 8, 1024);
        Assert.Equal(0, m.InvokeSyscall(340, [0, 7, rlim, 0]).Return);                 // prlimit64(0, RLIMIT_NOFILE)
        Assert.Equal(-Errno.EMFILE, m.InvokeSyscall(42, [Buf(m)]).Return);              // pipe: the write end is at the limit
        Assert.False(m.Task.Files.ContainsKey(free));                                    // and nothing was installed
        m.Memory.WriteBytes(path, Encoding.ASCII.GetBytes("/f\0"));
        Assert.Equal(free, m.InvokeSyscall(5, [path, 0x41, 0x1A4]).Return);             // open(O_CREAT|O_WRONLY) takes the last one
        Assert.Equal(-Errno.EMFILE, m.InvokeSyscall(5, [path, 1, 0]).Return);
        m.Memory.WriteUInt64(rlim, (ulong)free + 3);
        Assert.Equal(0, m.InvokeSyscall(340, [0, 7, rlim, 0]).Return);
        Assert.Equal(0, m.InvokeSyscall(42, [Buf(m)]).Return);                           // room for both ends now
        Assert.Equal((uint)free + 1, m.Memory.ReadUInt32(Buf(m)));
        Assert.Equal((uint)free + 2, m.Memory.ReadUInt32(Buf(m) + 4));
    }

    [Fact]
    public void prlimit64_reads_lowers_and_refuses_to_raise_the_hard_limit()
    {
        var m = M();
        ulong old = Buf(m), next = Buf(m) + 0x40;
        Assert.Equal(0, m.InvokeSyscall(340, [0, 7, 0, old]).Return);                  // RLIMIT_NOFILE
        Assert.Equal(1024UL, m.Memory.ReadUInt64(old));
        m.Memory.WriteUInt64(next, 10); m.Memory.WriteUInt64(next + 8, 20);
        Assert.Equal(0, m.InvokeSyscall(340, [0, 7, next, 0]).Return);
        m.Memory.WriteUInt64(next, 10); m.Memory.WriteUInt64(next + 8, 30);
        Assert.Equal(-Errno.EPERM, m.InvokeSyscall(340, [0, 7, next, 0]).Return);       // no CAP_SYS_RESOURCE
        m.Memory.WriteUInt64(next, 40); m.Memory.WriteUInt64(next + 8, 20);
        Assert.Equal(-Errno.EINVAL, m.InvokeSyscall(340, [0, 7, next, 0]).Return);      // cur > max
        Assert.Equal(-Errno.ESRCH, m.InvokeSyscall(340, [1, 7, 0, old]).Return);        // another process
        // ugetrlimit narrows RLIM_INFINITY to COMPAT_RLIM_INFINITY; the old getrlimit to 0x7fffffff.
        Assert.Equal(0, m.InvokeSyscall(191, [0, old]).Return);                         // RLIMIT_CPU
        Assert.Equal(0xFFFF_FFFFu, m.Memory.ReadUInt32(old));
        Assert.Equal(0, m.InvokeSyscall(76, [0, old]).Return);
        Assert.Equal(0x7FFF_FFFFu, m.Memory.ReadUInt32(old));
    }

    [Fact]
    public void Virtual_files_open_read_seek_and_stat()
    {
        var m = M();
        m.Task.FileSystem.Add("/etc/motd", Encoding.ASCII.GetBytes("hello file"));
        m.Memory.WriteBytes(Buf(m), "/etc/motd\0"u8);
        long fd = m.InvokeSyscall(295, [U(-100), Buf(m), 0, 0]).Return;                 // openat(AT_FDCWD, ..., O_RDONLY)
        Assert.Equal(3, fd);
        Assert.Equal(5, m.InvokeSyscall(3, [(ulong)fd, Buf(m) + 0x40, 5]).Return);
        Assert.Equal("hello", Encoding.ASCII.GetString(m.Memory.ReadBytes(Buf(m) + 0x40, 5)));
        Assert.Equal(6, m.InvokeSyscall(19, [(ulong)fd, U(-4), 2]).Return);             // lseek(fd, -4, SEEK_END)
        Assert.Equal(4, m.InvokeSyscall(3, [(ulong)fd, Buf(m) + 0x40, 100]).Return);
        Assert.Equal(-Errno.EBADF, m.InvokeSyscall(4, [(ulong)fd, Buf(m), 1]).Return);  // opened read-only
        Assert.Equal(0, m.InvokeSyscall(197, [(ulong)fd, Buf(m) + 0x80]).Return);        // fstat64
        Assert.Equal(0x81A4u, m.Memory.ReadUInt32(Buf(m) + 0x80 + 16));                  // S_IFREG | 0644
        Assert.Equal(10L, BitConverter.ToInt64(m.Memory.ReadBytes(Buf(m) + 0x80 + 44, 8)));
        Assert.Equal(-Errno.ESPIPE, m.InvokeSyscall(19, [1, 0, 0]).Return);              // stdout is a pipe
        Assert.Equal(-Errno.ENOTTY, m.InvokeSyscall(54, [1, 0x5401, Buf(m)]).Return);    // TCGETS on a pipe
        m.Memory.WriteBytes(Buf(m), "/nope\0"u8);
        Assert.Equal(-Errno.ENOENT, m.InvokeSyscall(5, [Buf(m), 0, 0]).Return);
        m.Memory.WriteBytes(Buf(m), "/tmp/out\0"u8);
        long w = m.InvokeSyscall(5, [Buf(m), 0x241, 0x1A4]).Return;                      // O_WRONLY|O_CREAT|O_TRUNC
        Assert.Equal(4, w);
        m.Memory.WriteBytes(Buf(m) + 0x40, "xyz"u8);
        Assert.Equal(3, m.InvokeSyscall(4, [(ulong)w, Buf(m) + 0x40, 3]).Return);
        Assert.Equal("xyz"u8.ToArray(), m.Task.FileSystem.Read("/tmp/out"));
    }

    [Fact]
    public void readlink_of_proc_self_exe_names_the_exec_path_without_a_terminator()
    {
        var m = M();
        m.Task.ExecPath = "/bin/prog";
        m.Memory.WriteBytes(Buf(m), "/proc/self/exe\0"u8);
        Assert.Equal(9, m.InvokeSyscall(85, [Buf(m), Buf(m) + 0x40, 100]).Return);
        Assert.Equal("/bin/prog", Encoding.ASCII.GetString(m.Memory.ReadBytes(Buf(m) + 0x40, 9)));
        Assert.Equal(4, m.InvokeSyscall(85, [Buf(m), Buf(m) + 0x40, 4]).Return);        // cut at bufsiz
    }

    [Fact]
    public void writev_gathers_the_iovecs_in_order()
    {
        var m = M();
        ulong iov = Buf(m), a = Buf(m) + 0x40, b = Buf(m) + 0x50;
        m.Memory.WriteBytes(a, "ab"u8); m.Memory.WriteBytes(b, "cde"u8);
        m.Memory.WriteUInt32(iov, (uint)a); m.Memory.WriteUInt32(iov + 4, 2);
        m.Memory.WriteUInt32(iov + 8, (uint)b); m.Memory.WriteUInt32(iov + 12, 3);
        Assert.Equal(5, m.InvokeSyscall(146, [1, iov, 2]).Return);
        Assert.Equal("abcde", m.Task.Stdout);
        Assert.Equal(-Errno.EINVAL, m.InvokeSyscall(146, [1, iov, 1025]).Return);       // UIO_MAXIOV
    }

    [Fact]
    public void An_alarm_ends_a_pause_with_SIGALRM_whose_default_action_kills()
    {
        var m = M();
        Assert.Equal(0, m.InvokeSyscall(27, [5]).Return);
        Assert.Equal(5, m.InvokeSyscall(27, [3]).Return);                               // the old alarm's seconds left
        var r = m.InvokeSyscall(29, []);                                                 // pause
        Assert.Equal("SIGALRM", r.Signal);
        Assert.True(m.Task.Exited);
        Assert.Equal(14, m.Task.KilledBy);
        Assert.True(m.VirtualNowNs >= 3_000_000_000UL);                                 // virtual time jumped to the expiry
    }

    [Fact]
    public void clock_gettime_counts_from_boot_and_the_wall_clock_from_2026()
    {
        var m = M(64);
        Assert.Equal(0, m.InvokeSyscall(228, [1, Buf(m)]).Return);                      // CLOCK_MONOTONIC
        long mono = (long)m.Memory.ReadUInt64(Buf(m));
        Assert.Equal(0, m.InvokeSyscall(228, [0, Buf(m)]).Return);                      // CLOCK_REALTIME
        Assert.Equal(1_767_225_600L + mono, (long)m.Memory.ReadUInt64(Buf(m)));
        Assert.Equal(-Errno.EINVAL, m.InvokeSyscall(228, [99, Buf(m)]).Return);
    }

    [Fact]
    public void mremap_grows_in_place_or_moves_the_bytes()
    {
        var m = M(64);
        long at = m.InvokeSyscall(9, [0, 0x2000, 3, 0x22, U(-1), 0]).Return;
        m.Memory.WriteBytes((ulong)at, "keep"u8);
        // The mmap area grows down, so the page above a fresh mapping is the previous one: growing must move.
        long blocker = m.InvokeSyscall(9, [(ulong)at + 0x2000, 0x1000, 3, 0x32, U(-1), 0]).Return;   // MAP_FIXED above it
        Assert.Equal(at + 0x2000, blocker);
        Assert.Equal(-Errno.ENOMEM, m.InvokeSyscall(25, [(ulong)at, 0x2000, 0x4000, 0]).Return);     // no MREMAP_MAYMOVE
        long moved = m.InvokeSyscall(25, [(ulong)at, 0x2000, 0x4000, 1]).Return;
        Assert.NotEqual(at, moved);
        Assert.Equal("keep"u8.ToArray(), m.Memory.ReadBytes((ulong)moved, 4));
        Assert.False(m.Memory.IsMapped((ulong)at));
        Assert.Equal(moved, m.InvokeSyscall(25, [(ulong)moved, 0x4000, 0x1000, 0]).Return);          // shrink in place
        Assert.False(m.Memory.IsMapped((ulong)moved + 0x1000));
    }
}
