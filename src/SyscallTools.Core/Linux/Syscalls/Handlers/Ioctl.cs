namespace SyscallTools.Core.Linux.Syscalls.Handlers;

/// <summary>ioctl(2): the terminal requests libc makes (isatty's TCGETS, TIOCGWINSZ); anything but a tty is -ENOTTY.</summary>
internal static class Ioctl
{
    private const uint Tcgets = 0x5401, Tiocgwinsz = 0x5413;

    public static long DoIoctl(SyscallContext c)
    {
        if (!c.Task.Files.TryGetValue(c.ArgInt(0), out var f)) return -Errno.EBADF;
        // vfs_ioctl: a file without the operation answers -ENOTTY ("inappropriate ioctl for device").
        if (!f.IsTty) return -Errno.ENOTTY;
        switch ((uint)c.Arg(1))
        {
            case Tcgets:
            {
                // struct termios (the kernel's, 36 bytes): c_iflag ICRNL|IXON, c_oflag OPOST|ONLCR, c_cflag B38400|CS8|CREAD,
                // c_lflag ISIG|ICANON|ECHO|ECHOE|ECHOK|ECHOCTL|ECHOKE|IEXTEN, c_line 0, c_cc as INIT_C_CC.
                var t = new byte[36];
                BitConverter.TryWriteBytes(t.AsSpan(0), 0x500u);
                BitConverter.TryWriteBytes(t.AsSpan(4), 0x5u);
                BitConverter.TryWriteBytes(t.AsSpan(8), 0xBFu);
                BitConverter.TryWriteBytes(t.AsSpan(12), 0x8A3Bu);
                byte[] cc = [3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0, 0, 0];
                cc.CopyTo(t, 17);
                return c.WriteUser(c.Arg(2), t) ? 0 : -Errno.EFAULT;
            }
            case Tiocgwinsz:
            {
                var w = new byte[8];
                BitConverter.TryWriteBytes(w.AsSpan(0), (ushort)24);
                BitConverter.TryWriteBytes(w.AsSpan(2), (ushort)80);
                return c.WriteUser(c.Arg(2), w) ? 0 : -Errno.EFAULT;
            }
            default:
                return -Errno.ENOTTY;
        }
    }
}
