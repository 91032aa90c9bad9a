using System.Runtime.InteropServices;

namespace SyscallTools.Core.Host;

/// <summary>
/// The libc calls the host runner needs (Linux x86-64 only): posix_spawn to start a probe without fork in a managed
/// process, waitpid/kill to reap and bound it, ptrace to trace it. Only <see cref="HostProbeRunner"/> calls these.
/// </summary>
internal static class Native
{
    private const string Libc = "libc";

    public const int WNOHANG = 1, WUNTRACED = 2, WALL = 0x4000_0000;
    public const int SIGKILL = 9, SIGSTOP = 19, SIGTRAP = 5;
    public const int O_RDONLY = 0, O_WRONLY = 1, O_CREAT = 0x40, O_TRUNC = 0x200;

    public const long PTRACE_PEEKTEXT = 1, PTRACE_SINGLESTEP = 9, PTRACE_GETREGS = 12, PTRACE_SETREGS = 13,
        PTRACE_SYSCALL = 24, PTRACE_SYSEMU = 31, PTRACE_SEIZE = 0x4206, PTRACE_GETSIGINFO = 0x4202, PTRACE_GET_SYSCALL_INFO = 0x420e;
    public const long PTRACE_O_TRACESYSGOOD = 1, PTRACE_O_EXITKILL = 0x10_0000;

    [DllImport(Libc, SetLastError = true)]
    public static extern int posix_spawn(out int pid, string path, IntPtr fileActions, IntPtr attr, string?[] argv, string?[] envp);

    [DllImport(Libc, SetLastError = true)]
    public static extern int posix_spawn_file_actions_init(IntPtr fileActions);

    [DllImport(Libc, SetLastError = true)]
    public static extern int posix_spawn_file_actions_destroy(IntPtr fileActions);

    [DllImport(Libc, SetLastError = true)]
    public static extern int posix_spawn_file_actions_addopen(IntPtr fileActions, int fd, string path, int flags, int mode);

    [DllImport(Libc, SetLastError = true)]
    public static extern int waitpid(int pid, out int status, int options);

    [DllImport(Libc, SetLastError = true)]
    public static extern int kill(int pid, int sig);

    [DllImport(Libc, SetLastError = true)]
    public static extern long ptrace(long request, int pid, IntPtr addr, IntPtr data);

    /// <summary>ptrace with a buffer as data (GETREGS, SETREGS, GETSIGINFO): the array is pinned for the call.</summary>
    [DllImport(Libc, SetLastError = true, EntryPoint = "ptrace")]
    public static extern long ptrace(long request, int pid, IntPtr addr, [In, Out] ulong[] data);

    [DllImport(Libc, SetLastError = true, EntryPoint = "ptrace")]
    public static extern long ptrace(long request, int pid, IntPtr addr, [In, Out] byte[] data);

    [DllImport(Libc, SetLastError = true)]
    public static extern int chmod(string path, int mode);

    public static bool WifExited(int s) => (s & 0x7f) == 0;
    public static int WexitStatus(int s) => (s >> 8) & 0xff;
    public static int WtermSig(int s) => s & 0x7f;
    public static bool WifStopped(int s) => (s & 0xff) == 0x7f;
    public static int WstopSig(int s) => (s >> 8) & 0xff;
    /// <summary>The PTRACE_EVENT_* of a ptrace-event stop (status >> 16).</summary>
    public static int WEvent(int s) => (s >> 16) & 0xff;
}

/// <summary>struct user_regs_struct (x86-64) as PTRACE_GETREGS fills it, by name.</summary>
public static class UserRegs
{
    public static readonly string[] Names =
    [
        "r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8", "ax", "cx", "dx", "si", "di", "orig_ax",
        "ip", "cs", "flags", "sp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs",
    ];

    public static int Index(string name) => Array.IndexOf(Names, name) is var i and >= 0 ? i
        : throw new ArgumentException($"user_regs_struct has no field '{name}'", nameof(name));
}
