namespace SyscallTools.Core.Linux.Models;

/// <summary>Which shape of entry code a model uses (ARCHITECTURE.md §4: models differ where the kernels differ).</summary>
public enum EntryGeneration
{
    /// <summary>≤ v4.2: asm fast paths with partial pt_regs, three vDSO images, SYSRETL/SYSEXIT when no work flags.</summary>
    PreRewrite,
    /// <summary>v4.3–v4.16: the 2015 rewrite — C entry code, one vDSO with alternatives, opportunistic fast exits.</summary>
    Rewrite,
    /// <summary>6.x: generic entry code, INT 0x80 as an IDT entry (do_int80_emulation), bool returns.</summary>
    Modern,
}

/// <summary>What an exit policy looks at: the final pt_regs and the facts around them.</summary>
public sealed record ExitInputs(
    PtRegs Regs,
    int KernelBits,
    ulong LandingPad,
    bool ArgFetchOk,
    ThreadFlags Flags,
    bool CpuHasSep,
    bool SlowPath = false,
    bool FastSyscallFlag = false,
    bool PtRegsWritten = false)
{
    /// <summary>A ladder the machine re-uses for this exit path (see <see cref="ExitLadder"/>); null: a fresh one.</summary>
    internal ExitLadder? Ladder { get; init; }
}

/// <summary>
/// A kernel version or design variant: a small object that chooses the entry stubs, the vDSO layout, the C
/// functions and the exit policy. The exit policy is one function per path and returns the instruction and
/// the checks with their actual and expected values — what Get-ExitPath shows.
/// </summary>
public abstract class KernelModel
{
    /// <summary>The model's name, e.g. "linux-6.18".</summary>
    public abstract string Name { get; }
    public abstract string Description { get; }
    /// <summary>Which kernel commit, tag or proposal the model follows.</summary>
    public abstract string Follows { get; }
    /// <summary>What uname reports as the release.</summary>
    public abstract string Release { get; }
    public abstract EntryGeneration Generation { get; }

    /// <summary>
    /// v4.6+ ("x86/signal/64: Re-add support for SS in the 64-bit signal context"): the 64-bit sigcontext saves SS in
    /// what was __pad0, the frame carries UC_SIGCONTEXT_SS and UC_STRICT_RESTORE_SS, delivery keeps a valid old SS
    /// (force_valid_ss) and a non-strict sigreturn to 64-bit code repairs an unusable one. Before, delivery set only
    /// CS and sigreturn restored only CS ("the bare minimum needed to allow mixed 32/64-bit code"), so SS stayed the
    /// __USER_DS that the rt_sigreturn entry pushed. Of the modelled versions only the 6.x generation is past 4.6.
    /// </summary>
    public virtual bool SigcontextSs => Generation == EntryGeneration.Modern;

    /// <summary>
    /// Whether a signal frame's fxsave image carries the software bytes (magic1, sizes, FP|SSE) on a CPU without XSAVE:
    /// 6.x's save_sw_bytes() fills them for every FXSR frame; 4.x copied fx_sw_reserved, which only XSAVE set up.
    /// </summary>
    public virtual bool SigframeSwBytesWithoutXsave => Generation == EntryGeneration.Modern;

    /// <summary>v4.7+: sigaltstack() accepts SS_AUTODISARM (the alternate stack is disarmed while a handler runs on it).</summary>
    public virtual bool SsAutodisarm => Generation == EntryGeneration.Modern;

    /// <summary>
    /// v5.14+ ("x86/signal: Detect and prevent an alternate signal stack overflow"): get_sigframe also refuses a frame
    /// that does not fit the alternate stack it is *entering* (entering_altstack), and tests the frame with
    /// __on_sig_stack; before, only a frame nested on the stack was checked.
    /// </summary>
    public virtual bool AltstackEntryOverflowCheck => Generation == EntryGeneration.Modern;

    /// <summary>Exit policy after a native 64-bit SYSCALL: SYSRETQ or IRET.</summary>
    public abstract ExitDecision Syscall64Exit(ExitInputs x);

    /// <summary>Exit policy after a fast 32-bit entry (SYSENTER or 32-bit SYSCALL): SYSRETL / SYSEXIT or IRET.</summary>
    public abstract ExitDecision FastSyscall32Exit(ExitInputs x);

    /// <summary>
    /// Whether do_fast_syscall_32 skips the slow exit (exit work, the exit-to-user-mode loop, the checks) with these
    /// thread flags. No released kernel does; the linux-4.4+exit-work-bypass design model does.
    /// </summary>
    public virtual bool SkipsSlowExit(ThreadFlags flags) => false;

    /// <summary>int $0x80 always leaves through IRET (one decision, made once: it does not depend on the inputs).</summary>
    public ExitDecision Int80Exit(ExitInputs x) => Int80Decision;

    /// <summary>The one decision after int $0x80.</summary>
    public ExitDecision Int80Decision => _int80Exit ??= ExitLadder.AlwaysIret(Name, "int $0x80 always returns with IRET",
        new ExitCheck("entry", "int $0x80", "SYSCALL or SYSENTER", false, "only the fast entries try an opportunistic fast exit"));

    private ExitDecision? _int80Exit;

    /// <summary>Starts the ladder of checks for an exit policy: the machine's re-usable one for this path, or a new one.</summary>
    protected ExitLadder Ladder(ExitInputs x, string fastInstruction) =>
        x.Ladder?.Begin(Name, fastInstruction) ?? new ExitLadder(Name, fastInstruction);

    /// <summary>The instruction a fast 32-bit entry leaves by when it may: SYSRETL on a 64-bit kernel, SYSEXIT on a 32-bit one.</summary>
    protected static string Fast32Instruction(int kernelBits) => kernelBits == 64 ? "SYSRETL" : "SYSEXIT";

    protected static ulong User32Cs(int kernelBits) => kernelBits == 64 ? Selectors.X64.User32Cs : Selectors.X86.UserCs;
    protected static ulong UserDs(int kernelBits) => kernelBits == 64 ? Selectors.X64.UserDs : Selectors.X86.UserDs;

    /// <summary>TASK_SIZE_MAX with 4-level paging: (1 &lt;&lt; 47) - PAGE_SIZE.</summary>
    public const ulong TaskSizeMax = (1UL << 47) - 4096;

    public override string ToString() => Name;

    public static IReadOnlyList<KernelModel> All { get; } =
        [new Linux42(), new Linux44(), new Linux618(), new Linux618UnsafeSysret(),
         new Linux44FastSyscallFlag(), new Linux44ExitWorkBypass(), new Linux44PtRegsAccessors()];

    public static KernelModel? Find(string name) =>
        All.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase));
}
