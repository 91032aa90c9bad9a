using System.Text;

namespace SyscallTools.Core.Linux.Syscalls.Handlers;

/// <summary>Identity and lifetime: getpid getppid gettid getuid exit exit_group uname iopl arch_prctl set_thread_area.</summary>
internal static class Process
{
    public static long GetPid(SyscallContext c) => c.Task.Pid;
    public static long GetPpid(SyscallContext c) => c.Task.Ppid;
    public static long GetTid(SyscallContext c) => c.Task.Tid;
    public static long GetUid(SyscallContext c) => c.Task.Uid;

    public static long Exit(SyscallContext c)
    {
        c.Task.Exit(c.ArgInt(0));
        return 0;
    }

    public static long ExitGroup(SyscallContext c) => Exit(c);

    /// <summary>iopl(2) needs CAP_SYS_RAWIO; the task is unprivileged.</summary>
    public static long Iopl(SyscallContext c) => c.ArgInt(0) is < 0 or > 3 ? -Errno.EINVAL : -Errno.EPERM;

    /// <summary>struct new_utsname: six fields of 65 bytes.</summary>
    public static long Uname(SyscallContext c)
    {
        var fields = new[] { "Linux", "syscalltools", c.Machine.Model.Release, "#1 SMP (SyscallTools model)",
            c.Machine.KernelBits == 64 ? "x86_64" : "i686", "(none)" };
        if (c.Task.Bitness == 32 && c.Machine.KernelBits == 64) fields[4] = "x86_64";
        var buf = new byte[65 * 6];
        for (int i = 0; i < 6; i++) Encoding.ASCII.GetBytes(fields[i]).AsSpan().CopyTo(buf.AsSpan(65 * i, 64));
        return c.WriteUser(c.Arg(0), buf) ? 0 : -Errno.EFAULT;
    }

    private const int ArchSetGs = 0x1001, ArchSetFs = 0x1002, ArchGetFs = 0x1003, ArchGetGs = 0x1004;

    /// <summary>arch_prctl(2): FS/GS base for 64-bit tasks.</summary>
    public static long ArchPrctl(SyscallContext c)
    {
        switch (c.ArgInt(0))
        {
            case ArchSetFs: c.Machine.UserFsBase = c.Arg(1); return 0;
            case ArchSetGs: c.Machine.UserGsBase = c.Arg(1); return 0;
            case ArchGetFs: return c.WriteUserUInt64(c.Arg(1), c.Machine.UserFsBase) ? 0 : -Errno.EFAULT;
            case ArchGetGs: return c.WriteUserUInt64(c.Arg(1), c.Machine.UserGsBase) ? 0 : -Errno.EFAULT;
            default: return -Errno.EINVAL;
        }
    }

    /// <summary>set_thread_area(2): a TLS descriptor for 32-bit tasks; the entry number is written back when -1 was asked.</summary>
    public static long SetThreadArea(SyscallContext c)
    {
        Span<byte> desc = stackalloc byte[16];
        if (!c.ReadUser(c.Arg(0), desc)) return -Errno.EFAULT;
        int entry = BitConverter.ToInt32(desc[..4]);
        int first = c.Machine.KernelBits == 64 ? 12 : 6;
        if (entry == -1) entry = first;
        if (entry < first || entry > first + 2) return -Errno.EINVAL;
        c.Machine.TlsBase[entry - first] = BitConverter.ToUInt32(desc[4..8]);
        return c.WriteUserUInt32(c.Arg(0), (uint)entry) ? 0 : -Errno.EFAULT;
    }
}
