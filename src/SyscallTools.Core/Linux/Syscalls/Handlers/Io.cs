namespace SyscallTools.Core.Linux.Syscalls.Handlers;

/// <summary>read write close pipe pipe2 on the task's virtual files.</summary>
internal static class Io
{
    private const int MaxIo = 1 << 20;

    public static long Read(SyscallContext c)
    {
        if (!c.Task.Files.TryGetValue(c.ArgInt(0), out var f)) return -Errno.EBADF;
        int count = (int)Math.Min(c.Arg(2), MaxIo);
        var buf = new byte[count];
        long n = f.Read(buf);
        // pipe_read() on an empty pipe sleeps interruptibly: a pending signal, or the task's alarm firing, ends the wait
        // with -ERESTARTSYS. (With neither, the one task would sleep forever; the model answers EAGAIN instead.)
        if (n == -Errno.EAGAIN && f is PipeEnd && c.Machine.WaitForSignal()) return -Errno.ERESTARTSYS;
        if (n <= 0) return n;
        return c.WriteUser(c.Arg(1), buf.AsSpan(0, (int)n)) ? n : -Errno.EFAULT;
    }

    public static long Write(SyscallContext c)
    {
        if (!c.Task.Files.TryGetValue(c.ArgInt(0), out var f)) return -Errno.EBADF;
        int count = (int)Math.Min(c.Arg(2), MaxIo);
        var buf = new byte[count];
        if (!c.ReadUser(c.Arg(1), buf)) return -Errno.EFAULT;
        return f.Write(buf);
    }

    public static long Close(SyscallContext c) => c.Task.Files.Remove(c.ArgInt(0)) ? 0 : -Errno.EBADF;

    public static long Pipe(SyscallContext c) => MakePipe(c, c.Arg(0));

    public static long Pipe2(SyscallContext c) => (c.Arg(1) & ~0x80800UL /* O_CLOEXEC | O_NONBLOCK */) != 0 ? -Errno.EINVAL : MakePipe(c, c.Arg(0));

    private static long MakePipe(SyscallContext c, ulong fdsAddress)
    {
        // do_pipe2: two descriptors, each from get_unused_fd_flags, so RLIMIT_NOFILE refuses either with -EMFILE.
        int r = Limits.UnusedFd(c.Task);
        if (r < 0) return r;
        int w = Limits.UnusedFd(c.Task, r + 1);
        if (w < 0) return w;
        Span<byte> fds = stackalloc byte[8];
        BitConverter.TryWriteBytes(fds, r);
        BitConverter.TryWriteBytes(fds[4..], w);
        if (!c.WriteUser(fdsAddress, fds)) return -Errno.EFAULT;
        var q = new Queue<byte>();
        c.Task.Files[r] = new PipeEnd(q, readEnd: true);
        c.Task.Files[w] = new PipeEnd(q, readEnd: false);
        return 0;
    }

}
