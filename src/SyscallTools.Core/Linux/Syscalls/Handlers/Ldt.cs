namespace SyscallTools.Core.Linux.Syscalls.Handlers;

/// <summary>
/// modify_ldt(func, ptr, bytecount) (arch/x86/kernel/ldt.c): 0 reads the LDT, 1 writes an entry in the old mode,
/// 0x11 in the new mode, 2 reads the "default LDT" (zeros). An entry is a struct user_desc: entry_number, base_addr,
/// limit, then the flag bits seg_32bit, contents (2 bits), read_exec_only, limit_in_pages, seg_not_present, useable
/// (and lm on 64-bit kernels).
/// </summary>
internal static class Ldt
{
    private const int LdtEntries = 8192, UserDescSize = 16;

    public static long ModifyLdt(SyscallContext c)
    {
        long ret = c.ArgInt(0) switch
        {
            0 => ReadLdt(c),
            1 => WriteLdt(c, oldMode: true),
            2 => ReadDefaultLdt(c),
            0x11 => WriteLdt(c, oldMode: false),
            _ => -Errno.ENOSYS,
        };
        // 6.x: "The SYSCALL_DEFINE() macros give us an 'unsigned long' return type, but the ABI for sys_modify_ldt()
        // expects 'int'" — the value is returned as (unsigned int), so a 64-bit caller sees an errno zero-extended.
        return c.Machine.Model.Generation == Models.EntryGeneration.Modern && c.Abi == SyscallAbi.X86_64 ? (uint)ret : ret;
    }

    private static long WriteLdt(SyscallContext c, bool oldMode)
    {
        if (c.Arg(2) != UserDescSize) return -Errno.EINVAL;
        Span<byte> info = stackalloc byte[UserDescSize];
        if (!c.ReadUser(c.Arg(1), info)) return -Errno.EFAULT;
        uint entry = BitConverter.ToUInt32(info), baseAddr = BitConverter.ToUInt32(info[4..]), limit = BitConverter.ToUInt32(info[8..]);
        uint flags = BitConverter.ToUInt32(info[12..]);
        bool seg32 = (flags & 1) != 0, readExecOnly = (flags & 8) != 0, pages = (flags & 16) != 0, notPresent = (flags & 32) != 0;
        bool useable = (flags & 64) != 0, lm = c.Machine.KernelBits == 64 && (flags & 128) != 0;
        uint contents = (flags >> 1) & 3;
        if (entry >= LdtEntries) return -Errno.EINVAL;
        // Conforming code (contents 3) only in the new mode, and only not present.
        if (contents == 3 && (oldMode || !notPresent)) return -Errno.EINVAL;
        bool empty = baseAddr == 0 && contents == 0 && readExecOnly && !seg32 && !pages && notPresent && !useable && !lm;
        ulong desc = 0;
        if (!(oldMode && baseAddr == 0 && limit == 0) && !empty)
        {
            // fill_ldt(): DPL 3, S = 1, type = contents << 2 | writable/readable unless read_exec_only | accessed; L is
            // never set ("It would confuse user_64bit_mode"). 16-bit segments are allowed (CONFIG_X86_16BIT).
            byte type = (byte)((contents << 2) | (readExecOnly ? 0u : 2u) | 1u);
            desc = Cpu.Cpu.MakeDescriptor(baseAddr, limit & 0xFFFFF, type, s: true, 3, present: !notPresent, l: false, d: seg32, g: pages);
            if (useable && !oldMode) desc |= 1UL << 52;              // AVL; the old mode clears it
        }
        c.Machine.WriteLdtEntry((int)entry, desc);
        return 0;
    }

    private static long ReadLdt(SyscallContext c)
    {
        byte[] entries = c.Machine.ReadLdt();
        if (entries.Length == 0) return 0;
        ulong count = Math.Min(c.Arg(2), (ulong)(LdtEntries * 8));
        var buf = new byte[count];
        entries.AsSpan(0, (int)Math.Min((ulong)entries.Length, count)).CopyTo(buf);
        return c.WriteUser(c.Arg(1), buf) ? (long)count : -Errno.EFAULT;
    }

    private static long ReadDefaultLdt(SyscallContext c)
    {
        // "CHECKME: Can we use _one_ random number ?": 5 descriptors' worth of zeros on 32-bit kernels, 128 bytes on 64-bit.
        ulong size = c.Machine.KernelBits == 32 ? 5 * 8UL : 128UL;
        ulong count = Math.Min(c.Arg(2), size);
        return c.WriteUser(c.Arg(1), new byte[count]) ? (long)count : -Errno.EFAULT;
    }
}
