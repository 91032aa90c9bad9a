namespace SyscallTools.Core.Linux.Syscalls.Handlers;

/// <summary>
/// sigaltstack(uss, uoss) (kernel/signal.c; compat_sigaltstack for i386 tasks): stack_t is {ss_sp, ss_flags, ss_size},
/// 12 bytes for i386 (void*, int, size_t) and 24 for x86-64 (void*, int + padding, size_t).
/// </summary>
internal static class SignalStack
{
    public static int Size(int bitness) => bitness == 32 ? 12 : 24;

    public static AltStack Decode(ReadOnlySpan<byte> b, int bitness) => bitness == 32
        ? new AltStack(BitConverter.ToUInt32(b), BitConverter.ToUInt32(b[8..]), BitConverter.ToUInt32(b[4..]))
        : new AltStack(BitConverter.ToUInt64(b), BitConverter.ToUInt64(b[16..]), BitConverter.ToUInt32(b[8..]));

    public static byte[] Encode(AltStack s, int bitness)
    {
        var b = new byte[Size(bitness)];
        if (bitness == 32)
        {
            BitConverter.TryWriteBytes(b.AsSpan(0), (uint)s.Sp);
            BitConverter.TryWriteBytes(b.AsSpan(4), s.Flags);
            BitConverter.TryWriteBytes(b.AsSpan(8), (uint)s.Size);
        }
        else
        {
            BitConverter.TryWriteBytes(b.AsSpan(0), s.Sp);
            BitConverter.TryWriteBytes(b.AsSpan(8), s.Flags);
            BitConverter.TryWriteBytes(b.AsSpan(16), s.Size);
        }
        return b;
    }

    /// <summary>
    /// The old stack is taken before the change and written only when the call succeeds; the "is the task on it"
    /// questions use the user stack pointer in pt_regs (current_user_stack_pointer()).
    /// </summary>
    public static long Sigaltstack(SyscallContext c)
    {
        // The ABI of the call decides the layout: an i386 call (even int $0x80 from a 64-bit task) is compat_sigaltstack.
        int bits = c.Abi == SyscallAbi.I386 ? 32 : 64;
        ulong sp = bits == 32 ? (uint)c.Regs.Sp : c.Regs.Sp;
        var m = c.Machine;
        var old = m.QueryAltStack(sp);
        if (c.Arg(0) != 0)
        {
            var buf = new byte[Size(bits)];
            if (!c.ReadUser(c.Arg(0), buf)) return -Errno.EFAULT;
            long err = m.DoSigaltstack(Decode(buf, bits), sp);
            if (err != 0) return err;
        }
        if (c.Arg(1) != 0 && !c.WriteUser(c.Arg(1), Encode(old, bits))) return -Errno.EFAULT;
        return 0;
    }
}
