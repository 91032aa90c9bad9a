using SyscallTools.Core.Memory;

namespace SyscallTools.Core.Linux.Syscalls.Handlers;

/// <summary>brk mmap mmap2 old_mmap munmap mprotect: anonymous private memory in the task's address space.</summary>
internal static class MemoryCalls
{
    private const int ProtRead = 1, ProtWrite = 2, ProtExec = 4;
    private const int MapShared = 1, MapPrivate = 2, MapFixed = 0x10, MapAnonymous = 0x20;
    private const ulong PageMask = Page.Size - 1;

    /// <summary>How much memory the whole machine may map (kernel included): 512 MiB.</summary>
    public const ulong MaxTaskMemory = 512UL << 20;

    internal static PageFlags Flags(int prot) =>
        PageFlags.User | ((prot & ProtWrite) != 0 ? PageFlags.Writable : 0) | ((prot & ProtExec) == 0 ? PageFlags.NoExecute : 0);

    /// <summary>brk(2): returns the new break, or the old one when the request cannot be met (the kernel's convention).</summary>
    public static long Brk(SyscallContext c)
    {
        var t = c.Task;
        ulong want = c.Arg(0);
        if (want < t.BrkStart || want > t.BrkStart + (64UL << 20)) return (long)t.Brk;
        ulong oldEnd = (t.Brk + PageMask) & ~PageMask, newEnd = (want + PageMask) & ~PageMask;
        if (newEnd > oldEnd) c.Machine.Memory.Map(oldEnd, newEnd - oldEnd, Flags(ProtRead | ProtWrite));
        else if (newEnd < oldEnd) c.Machine.Memory.Unmap(newEnd, oldEnd - newEnd);
        t.Brk = want;
        return (long)want;
    }

    public static long Mmap(SyscallContext c) => DoMmap(c, c.Arg(0), c.Arg(1), c.ArgInt(2), c.ArgInt(3), c.ArgInt(4), c.Arg(5));

    /// <summary>mmap2: the offset is in 4096-byte units.</summary>
    public static long Mmap2(SyscallContext c) => DoMmap(c, c.Arg(0), c.Arg(1), c.ArgInt(2), c.ArgInt(3), c.ArgInt(4), c.Arg(5) << 12);

    /// <summary>i386 old_mmap: one pointer to six 32-bit arguments.</summary>
    public static long OldMmap(SyscallContext c)
    {
        var a = new byte[24];
        if (!c.ReadUser(c.Arg(0), a)) return -Errno.EFAULT;
        uint U(int i) => BitConverter.ToUInt32(a, 4 * i);
        if ((U(5) & PageMask) != 0) return -Errno.EINVAL;
        return DoMmap(c, U(0), U(1), (int)U(2), (int)U(3), (int)U(4), U(5));
    }

    private static long DoMmap(SyscallContext c, ulong addr, ulong length, int prot, int flags, int fd, ulong offset)
    {
        if (length == 0 || (addr & PageMask) != 0 || (offset & PageMask) != 0) return -Errno.EINVAL;
        if ((flags & (MapShared | MapPrivate)) == 0) return -Errno.EINVAL;
        // Only anonymous memory: there is no file system in the model.
        if ((flags & MapAnonymous) == 0) return fd < 0 ? -Errno.EBADF : -Errno.ENODEV;
        if (length > ulong.MaxValue - PageMask) return -Errno.ENOMEM;
        ulong len = (length + PageMask) & ~PageMask;
        // TASK_SIZE: a 32-bit kernel's tasks end at 0xc0000000, below the kernel; nothing may be mapped over the kernel.
        ulong limit = c.Machine.TaskSize;
        if (len > limit) return -Errno.ENOMEM;
        // The emulated task has a memory limit (RLIMIT_AS in effect), so no program can exhaust the host.
        if ((ulong)c.Machine.Memory.PageCount * Page.Size + len > MaxTaskMemory) return -Errno.ENOMEM;
        ulong at;
        if ((flags & MapFixed) != 0)
        {
            if (addr > limit - len) return -Errno.ENOMEM;
            at = addr;
            c.Machine.Memory.Unmap(at, len);
        }
        else
        {
            at = c.Machine.FindFreeUserRange(len, c.Task.Bitness);
            if (at == 0) return -Errno.ENOMEM;
        }
        c.Machine.Memory.Map(at, len, Flags(prot));
        return (long)at;
    }

    public static long Munmap(SyscallContext c)
    {
        ulong addr = c.Arg(0), length = c.Arg(1), limit = c.Machine.TaskSize;
        // do_vmi_munmap: "if ((offset_in_page(start)) || start > TASK_SIZE || len > TASK_SIZE-start) return -EINVAL".
        if ((addr & PageMask) != 0 || addr > limit || length > limit - addr) return -Errno.EINVAL;
        ulong len = (length + PageMask) & ~PageMask;
        if (len == 0) return -Errno.EINVAL;
        c.Machine.Memory.Unmap(addr, len);
        return 0;
    }

    private const int MremapMaymove = 1, MremapFixed = 2;

    /// <summary>
    /// mremap(old, old_size, new_size, flags): shrinking unmaps the tail; growing extends in place when the pages after
    /// are free, else (MREMAP_MAYMOVE) copies the pages, with their protections, to a new range and unmaps the old one.
    /// MREMAP_FIXED is not modelled (-EINVAL).
    /// </summary>
    public static long Mremap(SyscallContext c)
    {
        ulong addr = c.Arg(0), oldLen = (c.Arg(1) + PageMask) & ~PageMask, newLen = (c.Arg(2) + PageMask) & ~PageMask;
        int flags = c.ArgInt(3);
        if ((addr & PageMask) != 0 || (flags & ~(MremapMaymove | MremapFixed)) != 0 || (flags & MremapFixed) != 0) return -Errno.EINVAL;
        if (newLen == 0 || oldLen == 0) return -Errno.EINVAL;
        var mem = c.Machine.Memory;
        ulong limit = c.Machine.TaskSize;
        if (addr >= limit || oldLen > limit - addr) return -Errno.EFAULT;
        // vma_to_resize: the old range must be mapped ("if (!vma) return -EFAULT").
        for (ulong p = addr; p < addr + oldLen; p += Page.Size)
            if (mem.FlagsAt(p) is not PageFlags f || (f & PageFlags.User) == 0) return -Errno.EFAULT;
        if (newLen <= oldLen)
        {
            if (newLen < oldLen) mem.Unmap(addr + newLen, oldLen - newLen);
            return (long)addr;
        }
        bool roomAfter = newLen <= limit - addr;
        for (ulong p = addr + oldLen; roomAfter && p < addr + newLen; p += Page.Size)
            if (mem.IsMapped(p)) roomAfter = false;
        if ((ulong)mem.PageCount * Page.Size + (newLen - oldLen) > MaxTaskMemory) return -Errno.ENOMEM;
        var flagsOfLast = mem.FlagsAt(addr + oldLen - Page.Size)!.Value;
        if (roomAfter)
        {
            mem.Map(addr + oldLen, newLen - oldLen, flagsOfLast);
            return (long)addr;
        }
        if ((flags & MremapMaymove) == 0) return -Errno.ENOMEM;
        ulong at = c.Machine.FindFreeUserRange(newLen, c.Task.Bitness);
        if (at == 0) return -Errno.ENOMEM;
        mem.Map(at, newLen, flagsOfLast);
        for (ulong off = 0; off < oldLen; off += Page.Size)
        {
            mem.WriteBytes(at + off, mem.ReadBytes(addr + off, Page.Size));
            mem.Protect(at + off, Page.Size, mem.FlagsAt(addr + off)!.Value);
        }
        mem.Unmap(addr, oldLen);
        return (long)at;
    }

    public static long Mprotect(SyscallContext c)
    {
        ulong addr = c.Arg(0), length = c.Arg(1);
        if ((addr & PageMask) != 0) return -Errno.EINVAL;
        if (length > ulong.MaxValue - PageMask) return -Errno.ENOMEM;
        ulong len = (length + PageMask) & ~PageMask;
        if (len == 0) return 0;
        // Past TASK_SIZE there is no vma, only the kernel: -ENOMEM, as for any unmapped range.
        if (addr >= c.Machine.TaskSize || len > c.Machine.TaskSize - addr) return -Errno.ENOMEM;
        return c.Machine.Memory.Protect(addr, len, Flags(c.ArgInt(2))) ? 0 : -Errno.ENOMEM;
    }
}
