using System.Text;

namespace SyscallTools.Core.Linux.Syscalls.Handlers;

/// <summary>Identity and lifetime: getpid getppid gettid getuid exit exit_group uname iopl arch_prctl set_thread_area.</summary>
internal static class Process
{
    public static long GetPid(SyscallContext c) => c.Task.Pid;
    public static long GetPpid(SyscallContext c) => c.Task.Ppid;
    public static long GetTid(SyscallContext c) => c.Task.Tid;
    public static long GetUid(SyscallContext c) => c.Task.Uid;
    /// <summary>getgid, and geteuid / getegid: the task runs with the same real and effective ids.</summary>
    public static long GetGid(SyscallContext c) => c.Task.Gid;

    public static long Exit(SyscallContext c)
    {
        c.Task.Exit(c.ArgInt(0));
        return 0;
    }

    public static long ExitGroup(SyscallContext c) => Exit(c);

    /// <summary>iopl(2): raising the level needs CAP_SYS_RAWIO, which the unprivileged task lacks; keeping or lowering it is allowed.</summary>
    public static long Iopl(SyscallContext c)
    {
        int level = c.ArgInt(0);
        if (level is < 0 or > 3) return -Errno.EINVAL;
        int current = Cpu.RFlags.Iopl(c.Regs.Flags);
        return level > current ? -Errno.EPERM : 0;
    }

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
            case ArchSetFs:
                if (c.Arg(1) >= Models.KernelModel.TaskSizeMax) return -Errno.EPERM;
                c.Machine.UserFsBase = c.Arg(1);
                c.Machine.Cpu.WriteMsr(Cpu.Msr.FsBase, c.Arg(1));          // the task is current: load it now
                return 0;
            case ArchSetGs:
                if (c.Arg(1) >= Models.KernelModel.TaskSizeMax) return -Errno.EPERM;
                c.Machine.UserGsBase = c.Arg(1);
                c.Machine.Cpu.WriteMsr(Cpu.Msr.KernelGsBase, c.Arg(1));    // inside the kernel the user's GS base waits for SWAPGS
                return 0;
            case ArchGetFs: return c.WriteUserUInt64(c.Arg(1), c.Machine.UserFsBase) ? 0 : -Errno.EFAULT;
            case ArchGetGs: return c.WriteUserUInt64(c.Arg(1), c.Machine.UserGsBase) ? 0 : -Errno.EFAULT;
            default: return -Errno.EINVAL;
        }
    }

    /// <summary>
    /// set_thread_area(2) (arch/x86/kernel/tls.c): one of the three GDT TLS descriptors; -1 asks for the first empty one,
    /// whose number is written back. tls_desc_okay() (since 3.19, so every modelled version) refuses 16-bit segments
    /// ("espfix is required for 16-bit data segments, but espfix only works for LDT segments"), code ("Only allow data
    /// segments in the TLS array") and not-present ones; LDT_empty() or an all-zero user_desc clears the slot.
    /// </summary>
    public static long SetThreadArea(SyscallContext c)
    {
        Span<byte> desc = stackalloc byte[16];
        if (!c.ReadUser(c.Arg(0), desc)) return -Errno.EFAULT;
        int entry = BitConverter.ToInt32(desc[..4]);
        uint baseAddr = BitConverter.ToUInt32(desc[4..8]), limit = BitConverter.ToUInt32(desc[8..12]);
        uint flags = BitConverter.ToUInt32(desc[12..16]);
        bool seg32 = (flags & 1) != 0, readExecOnly = (flags & 8) != 0, pages = (flags & 16) != 0, notPresent = (flags & 32) != 0;
        bool useable = (flags & 64) != 0;
        int contents = (int)((flags >> 1) & 3);
        bool empty = baseAddr == 0 && contents == 0 && readExecOnly && !seg32 && !pages && notPresent && !useable;
        bool zero = baseAddr == 0 && limit == 0 && flags == 0;
        if (!empty && !zero && (!seg32 || contents > 1 || notPresent)) return -Errno.EINVAL;
        int first = c.Machine.KernelBits == 64 ? 12 : 6;
        ulong gdt = c.Machine.Cpu.Gdtr.Base;
        if (entry == -1)
        {
            // get_free_idx(): the first TLS slot whose descriptor is empty.
            entry = first;
            while (entry < first + 3 && c.Machine.Memory.ReadUInt64(gdt + (ulong)(8 * entry)) != 0) entry++;
            if (entry == first + 3) return -Errno.ESRCH;
            if (!c.WriteUserUInt32(c.Arg(0), (uint)entry)) return -Errno.EFAULT;
        }
        if (entry < first || entry > first + 2) return -Errno.EINVAL;
        ulong d = 0;
        if (!empty && !zero)
        {
            // fill_ldt(): a data segment, DPL 3, writable unless read_exec_only, expand-down for contents == 1, accessed.
            byte type = (byte)((contents << 2) | (readExecOnly ? 0 : 2) | 1);
            d = Cpu.Cpu.MakeDescriptor(baseAddr, limit & 0xFFFFF, type, s: true, 3, present: true, l: false, d: true, g: pages);
            if (useable) d |= 1UL << 52;
        }
        c.Machine.TlsBase[entry - first] = d == 0 ? 0 : baseAddr;
        c.Machine.Memory.WriteUInt64(gdt + (ulong)(8 * entry), d);
        return 0;
    }
}
