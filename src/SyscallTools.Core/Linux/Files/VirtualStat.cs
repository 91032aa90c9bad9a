namespace SyscallTools.Core.Linux.Files;

/// <summary>What stat reports for a virtual file: its type and permission bits, size, inode and device numbers.</summary>
public sealed record VirtualStat(uint Mode, long Size, ulong Inode, ulong Device, ulong RDevice = 0)
{
    public const uint S_IFIFO = 0x1000, S_IFCHR = 0x2000, S_IFDIR = 0x4000, S_IFREG = 0x8000;

    /// <summary>A pipe (stdin, stdout and stderr of a run are pipes, as under a test harness): S_IFIFO | 0600 on pipefs.</summary>
    public static VirtualStat Pipe(ulong inode) => new(S_IFIFO | 0x180, 0, inode, 0xC);

    /// <summary>A terminal: /dev/pts/0, character device 136:0, mode 0620.</summary>
    public static VirtualStat Tty => new(S_IFCHR | 0x190, 0, 3, 0x18, (136UL << 8) | 0);

    /// <summary>st_blocks: 512-byte blocks, whole 4 KiB blocks allocated.</summary>
    public long Blocks => (Size + 4095) / 4096 * 8;

    public const int BlockSize = 4096;
}
