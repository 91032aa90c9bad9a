using SyscallTools.Core.Linux.Syscalls.Handlers;

namespace SyscallTools.Core.Linux.Syscalls;

/// <summary>
/// The syscall tables, one row per call (arch/x86/entry/syscalls/syscall_32.tbl and syscall_64.tbl numbers).
/// A number with no row returns -ENOSYS, as the kernel's sys_ni_syscall does.
/// </summary>
public sealed class SyscallTable
{
    private readonly SyscallRow?[] _byNumber = new SyscallRow?[512];
    private readonly Dictionary<string, SyscallRow> _byName;

    private SyscallTable(SyscallAbi abi, IEnumerable<SyscallRow> rows)
    {
        Abi = abi;
        Rows = rows.OrderBy(r => r.Number).ToList();
        foreach (var r in Rows) _byNumber[r.Number] = r;
        _byName = Rows.ToDictionary(r => r.Name, StringComparer.Ordinal);
    }

    public SyscallAbi Abi { get; }
    public IReadOnlyList<SyscallRow> Rows { get; }

    /// <summary>
    /// NR_syscalls / IA32_NR_syscalls: one length for every modelled generation and both ABIs (real kernels differ,
    /// but a number with no row returns -ENOSYS either way; only which branch the entry takes depends on it).
    /// </summary>
    public const int NrSyscalls = 463;

    /// <summary>NR_syscalls: numbers at or above it are out of range.</summary>
    public int Count => NrSyscalls;

    public SyscallRow? ByNumber(long nr) => nr >= 0 && nr < _byNumber.Length ? _byNumber[nr] : null;
    public SyscallRow? ByName(string name) => _byName.GetValueOrDefault(name);

    public static SyscallTable For(SyscallAbi abi) => abi == SyscallAbi.I386 ? I386 : X86_64;

    public static SyscallTable I386 { get; } = new(SyscallAbi.I386,
    [
        new(0, "restart_syscall", 0, Time.RestartSyscall),
        new(1, "exit", 1, Process.Exit),
        new(3, "read", 3, Io.Read),
        new(4, "write", 3, Io.Write),
        new(5, "open", 3, FilesCalls.Open),
        new(6, "close", 1, Io.Close),
        new(13, "time", 1, Clock.Time),
        new(19, "lseek", 3, FilesCalls.Lseek),
        new(20, "getpid", 0, Process.GetPid),
        new(24, "getuid", 0, Process.GetUid),
        new(27, "alarm", 1, Alarm.SetAlarm),
        new(29, "pause", 0, Time.Pause),
        new(37, "kill", 2, Signals.Kill),
        new(42, "pipe", 1, Io.Pipe),
        new(45, "brk", 1, MemoryCalls.Brk),
        new(47, "getgid", 0, Process.GetGid),
        new(49, "geteuid", 0, Process.GetUid),
        new(50, "getegid", 0, Process.GetGid),
        new(54, "ioctl", 3, Ioctl.DoIoctl),
        new(64, "getppid", 0, Process.GetPpid),
        new(67, "sigaction", 3, Signals.Sigaction),
        new(76, "getrlimit", 2, Limits.OldGetrlimit),
        new(78, "gettimeofday", 2, Clock.Gettimeofday),
        new(85, "readlink", 3, FilesCalls.Readlink),
        new(90, "mmap", 1, MemoryCalls.OldMmap),
        new(91, "munmap", 2, MemoryCalls.Munmap),
        new(108, "fstat", 2, Stat.Fstat),
        new(110, "iopl", 1, Process.Iopl),
        new(119, "sigreturn", 0, SignalsReturn.SigReturn),
        new(122, "uname", 1, Process.Uname),
        new(123, "modify_ldt", 3, Ldt.ModifyLdt),
        new(125, "mprotect", 3, MemoryCalls.Mprotect),
        new(140, "_llseek", 5, FilesCalls.Llseek),
        new(145, "readv", 3, Vectored.Readv),
        new(146, "writev", 3, Vectored.Writev),
        new(162, "nanosleep", 2, Time.Nanosleep),
        new(163, "mremap", 5, MemoryCalls.Mremap),
        new(173, "rt_sigreturn", 0, SignalsReturn.RtSigReturn),
        new(174, "rt_sigaction", 4, Signals.RtSigaction),
        new(175, "rt_sigprocmask", 4, Signals.RtSigprocmask),
        new(186, "sigaltstack", 2, SignalStack.Sigaltstack),
        new(191, "ugetrlimit", 2, Limits.Ugetrlimit),
        new(192, "mmap2", 6, MemoryCalls.Mmap2),
        new(197, "fstat64", 2, Stat.Fstat64),
        new(199, "getuid32", 0, Process.GetUid),
        new(200, "getgid32", 0, Process.GetGid),
        new(201, "geteuid32", 0, Process.GetUid),
        new(202, "getegid32", 0, Process.GetGid),
        new(224, "gettid", 0, Process.GetTid),
        new(243, "set_thread_area", 1, Process.SetThreadArea),
        new(252, "exit_group", 1, Process.ExitGroup),
        new(258, "set_tid_address", 1, ThreadSetup.SetTidAddress),
        new(265, "clock_gettime", 2, Clock.ClockGettime),
        new(270, "tgkill", 3, Signals.Tgkill),
        new(295, "openat", 4, FilesCalls.Openat),
        new(300, "fstatat64", 4, Stat.Fstatat64),
        new(305, "readlinkat", 4, FilesCalls.Readlinkat),
        new(308, "pselect6", 6, Time.Pselect6),
        new(311, "set_robust_list", 2, ThreadSetup.SetRobustList),
        new(331, "pipe2", 2, Io.Pipe2),
        new(340, "prlimit64", 4, Limits.Prlimit64),
        new(355, "getrandom", 3, Randomness.Getrandom),
        new(383, "statx", 5, Stat.Statx),
        SyscallRow.NotModelled(386, "rseq", 4),
        new(403, "clock_gettime64", 2, Clock.ClockGettime64),
    ]);

    public static SyscallTable X86_64 { get; } = new(SyscallAbi.X86_64,
    [
        new(0, "read", 3, Io.Read),
        new(1, "write", 3, Io.Write),
        new(2, "open", 3, FilesCalls.Open),
        new(3, "close", 1, Io.Close),
        new(5, "fstat", 2, Stat.Fstat),
        new(8, "lseek", 3, FilesCalls.Lseek),
        new(9, "mmap", 6, MemoryCalls.Mmap),
        new(10, "mprotect", 3, MemoryCalls.Mprotect),
        new(11, "munmap", 2, MemoryCalls.Munmap),
        new(12, "brk", 1, MemoryCalls.Brk),
        new(13, "rt_sigaction", 4, Signals.RtSigaction),
        new(14, "rt_sigprocmask", 4, Signals.RtSigprocmask),
        new(15, "rt_sigreturn", 0, SignalsReturn.RtSigReturn),
        new(16, "ioctl", 3, Ioctl.DoIoctl),
        new(19, "readv", 3, Vectored.Readv),
        new(20, "writev", 3, Vectored.Writev),
        new(22, "pipe", 1, Io.Pipe),
        new(25, "mremap", 5, MemoryCalls.Mremap),
        new(34, "pause", 0, Time.Pause),
        new(35, "nanosleep", 2, Time.Nanosleep),
        new(37, "alarm", 1, Alarm.SetAlarm),
        new(39, "getpid", 0, Process.GetPid),
        new(60, "exit", 1, Process.Exit),
        new(62, "kill", 2, Signals.Kill),
        new(63, "uname", 1, Process.Uname),
        new(89, "readlink", 3, FilesCalls.Readlink),
        new(96, "gettimeofday", 2, Clock.Gettimeofday),
        new(97, "getrlimit", 2, Limits.Getrlimit),
        new(102, "getuid", 0, Process.GetUid),
        new(104, "getgid", 0, Process.GetGid),
        new(107, "geteuid", 0, Process.GetUid),
        new(108, "getegid", 0, Process.GetGid),
        new(110, "getppid", 0, Process.GetPpid),
        new(131, "sigaltstack", 2, SignalStack.Sigaltstack),
        new(154, "modify_ldt", 3, Ldt.ModifyLdt),
        new(158, "arch_prctl", 2, Process.ArchPrctl),
        new(172, "iopl", 1, Process.Iopl),
        new(186, "gettid", 0, Process.GetTid),
        new(201, "time", 1, Clock.Time),
        new(205, "set_thread_area", 1, Process.SetThreadArea),
        new(218, "set_tid_address", 1, ThreadSetup.SetTidAddress),
        new(219, "restart_syscall", 0, Time.RestartSyscall),
        new(228, "clock_gettime", 2, Clock.ClockGettime),
        new(231, "exit_group", 1, Process.ExitGroup),
        new(234, "tgkill", 3, Signals.Tgkill),
        new(257, "openat", 4, FilesCalls.Openat),
        new(262, "newfstatat", 4, Stat.Newfstatat),
        new(267, "readlinkat", 4, FilesCalls.Readlinkat),
        new(270, "pselect6", 6, Time.Pselect6),
        new(273, "set_robust_list", 2, ThreadSetup.SetRobustList),
        new(293, "pipe2", 2, Io.Pipe2),
        new(302, "prlimit64", 4, Limits.Prlimit64),
        new(318, "getrandom", 3, Randomness.Getrandom),
        new(332, "statx", 5, Stat.Statx),
        SyscallRow.NotModelled(334, "rseq", 4),
    ]);
}
