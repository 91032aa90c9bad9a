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
        new(6, "close", 1, Io.Close),
        new(20, "getpid", 0, Process.GetPid),
        new(24, "getuid", 0, Process.GetUid),
        new(29, "pause", 0, Time.Pause),
        new(37, "kill", 2, Signals.Kill),
        new(42, "pipe", 1, Io.Pipe),
        new(45, "brk", 1, MemoryCalls.Brk),
        new(64, "getppid", 0, Process.GetPpid),
        new(67, "sigaction", 3, Signals.Sigaction),
        new(90, "mmap", 1, MemoryCalls.OldMmap),
        new(91, "munmap", 2, MemoryCalls.Munmap),
        new(110, "iopl", 1, Process.Iopl),
        new(119, "sigreturn", 0, SignalsReturn.SigReturn),
        new(122, "uname", 1, Process.Uname),
        new(123, "modify_ldt", 3, Ldt.ModifyLdt),
        new(125, "mprotect", 3, MemoryCalls.Mprotect),
        new(162, "nanosleep", 2, Time.Nanosleep),
        new(173, "rt_sigreturn", 0, SignalsReturn.RtSigReturn),
        new(174, "rt_sigaction", 4, Signals.RtSigaction),
        new(175, "rt_sigprocmask", 4, Signals.RtSigprocmask),
        new(186, "sigaltstack", 2, SignalStack.Sigaltstack),
        new(192, "mmap2", 6, MemoryCalls.Mmap2),
        new(199, "getuid32", 0, Process.GetUid),
        new(224, "gettid", 0, Process.GetTid),
        new(243, "set_thread_area", 1, Process.SetThreadArea),
        new(252, "exit_group", 1, Process.ExitGroup),
        new(270, "tgkill", 3, Signals.Tgkill),
        new(308, "pselect6", 6, Time.Pselect6),
        new(331, "pipe2", 2, Io.Pipe2),
    ]);

    public static SyscallTable X86_64 { get; } = new(SyscallAbi.X86_64,
    [
        new(0, "read", 3, Io.Read),
        new(1, "write", 3, Io.Write),
        new(3, "close", 1, Io.Close),
        new(9, "mmap", 6, MemoryCalls.Mmap),
        new(10, "mprotect", 3, MemoryCalls.Mprotect),
        new(11, "munmap", 2, MemoryCalls.Munmap),
        new(12, "brk", 1, MemoryCalls.Brk),
        new(13, "rt_sigaction", 4, Signals.RtSigaction),
        new(14, "rt_sigprocmask", 4, Signals.RtSigprocmask),
        new(15, "rt_sigreturn", 0, SignalsReturn.RtSigReturn),
        new(22, "pipe", 1, Io.Pipe),
        new(34, "pause", 0, Time.Pause),
        new(35, "nanosleep", 2, Time.Nanosleep),
        new(39, "getpid", 0, Process.GetPid),
        new(60, "exit", 1, Process.Exit),
        new(62, "kill", 2, Signals.Kill),
        new(63, "uname", 1, Process.Uname),
        new(102, "getuid", 0, Process.GetUid),
        new(110, "getppid", 0, Process.GetPpid),
        new(154, "modify_ldt", 3, Ldt.ModifyLdt),
        new(131, "sigaltstack", 2, SignalStack.Sigaltstack),
        new(158, "arch_prctl", 2, Process.ArchPrctl),
        new(172, "iopl", 1, Process.Iopl),
        new(186, "gettid", 0, Process.GetTid),
        new(205, "set_thread_area", 1, Process.SetThreadArea),
        new(219, "restart_syscall", 0, Time.RestartSyscall),
        new(231, "exit_group", 1, Process.ExitGroup),
        new(234, "tgkill", 3, Signals.Tgkill),
        new(270, "pselect6", 6, Time.Pselect6),
        new(293, "pipe2", 2, Io.Pipe2),
    ]);
}
