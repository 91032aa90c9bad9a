namespace SyscallTools.Core.Cost;

/// <summary>
/// The built-in tables. Sources are reference/cycle-costs.md's ids (S1…S27). Calibrated figures were chosen so that the
/// model reproduces the published deltas named in their source text; see README "Cycle-cost model" for which figures
/// were calibration targets and which results are predictions.
/// </summary>
public static class BuiltInCostTables
{
    private static CostEntry S(string key, double cycles, string source) => new(key, cycles, CostStatus.Sourced, source);
    private static CostEntry Cal(string key, double cycles, string source) => new(key, cycles, CostStatus.Calibrated, source);
    private static CostEntry A(string key, double cycles, string why) => new(key, cycles, CostStatus.Assumption, why);

    private static IEnumerable<CostEntry> Common() =>
    [
        S("popf", 20, "S6: POPF 20 cycles (IF unchanged), Intel 2015 boot-time suite"),
        S("sti", 0, "S6: CLI/STI below the suite's resolution (0)"),
        S("cli", 0, "S6: CLI/STI below the suite's resolution (0)"),
        A("mov cr3", 200, "not on any modelled path (no PTI); S18 says the CR3 write is >99% of PTI's cost, S13 gives +430 per round trip with PCID for two writes"),
        A("class:alu", 0.5, "assumption: register ALU/MOV at ~2 per cycle"),
        A("class:memory", 1, "assumption: an L1-hit load or store"),
        A("class:stack", 1, "assumption: PUSH/POP at one per cycle"),
        A("class:branch", 1, "assumption: a predicted branch"),
        A("class:call-ret", 2, "assumption: a predicted CALL or RET"),
        A("c:exc_handler", 60, "assumption: trap handler dispatch"),
        A("c:syscall_trace_enter", 60, "assumption: ptrace/audit entry work"),
        A("c:syscall-body", 15, "assumption: a trivial syscall body"),
        A("c:sys_getpid", 10, "assumption: task_tgid_vnr(current)"),
        A("c:sys_getppid", 15, "assumption: an RCU read of the parent"),
    ];

    /// <summary>
    /// Intel Skylake-class, no mitigations. The calibration targets (CostCalibrationTests checks each):
    /// T1 a linux-4.4 64-bit getpid round trip ≈ 130 cycles (§5.4 default from S13's 115–150 on Linux 4.4 and S12);
    /// T2 the rewrite's cost on the compat fast path, linux-4.4 − linux-4.2 ≈ +18 (S3's +25 for the RFC, less S4's −6…−8
    /// that v4.4 also merged); T3 SYSEXIT + POPF + STI − SYSRETL = 30 (S2); T4 IRET − SYSRET = 100 (§5.4 from S1, S2);
    /// T5 an int $0x80 round trip ≈ 2× the vDSO's (S10).
    /// </summary>
    public static CostTable IntelSkylake { get; } = new("intel-skylake", "Intel", Common().Concat(
    [
        Cal("syscall", 30, "T1 with sysret: a linux-4.4 64-bit getpid round trip ≈ 130 cycles (§5.4; S13 nopti 115–150 on 4.4, S12 103 ns)"),
        Cal("sysret", 31, "T1 with syscall"),
        A("sysenter", 30, "assumed equal to SYSCALL (no figure for either alone, §5.1)"),
        Cal("sysexit", 41, "T3: SYSEXIT + POPF (20) + STI (0) is ≈30 cycles more than SYSRETL (S2)"),
        Cal("int", 119, "T5: an int $0x80 round trip ≈ 2× the vDSO's for a trivial call (S10; §5.4)"),
        Cal("iret", 131, "T4: IRET ≈ 100 cycles more than SYSRET (§5.4 from S1 and S2)"),
        A("swapgs", 10, "assumption: no public figure (§5.1)"),
        A("exception", 150, "assumption: IDT delivery of an exception; S7's ≈440 for a page-fault entry half includes the handler's bookkeeping"),
        Cal("c:do_fast_syscall_32", 6, "T2: with c:slow-exit and c:exit-check, the rewrite's C side costs what S3 − S4 report"),
        A("c:do_SYSENTER_32", 6, "as do_fast_syscall_32 (6.x)"),
        A("c:do_syscall_64", 6, "as do_fast_syscall_32"),
        A("c:do_int80_syscall_32", 6, "as do_fast_syscall_32"),
        A("c:do_syscall_32_irqs_off", 6, "as do_fast_syscall_32"),
        A("c:do_int80_emulation", 8, "do_int80_syscall_32 plus the 6.x checks"),
        A("c:syscall_return_slowpath", 20, "assumption: the pre-rewrite C slow exit"),
        A("c:opportunistic_sysret_ok", 5, "assumption: the v4.x slow path's SYSRET test as a function"),
        Cal("c:exit-check", 2, "T2: one opportunistic-exit test (a load and a compare)"),
        Cal("c:slow-exit", 4, "T2: prepare_exit_to_usermode's inlined hot check after S4's split"),
    ]));

    /// <summary>AMD Zen 3-class, no mitigations. No AMD-specific figures were found (§5.1): Intel's, marked as assumed.</summary>
    public static CostTable AmdZen3 { get; } = new("amd-zen3", "AMD", IntelSkylake.Entries.Select(e =>
        e.Status == CostStatus.Assumption ? e : e with { Status = CostStatus.Assumption, Source = "Intel's figure (no AMD source, §5.1): " + e.Source }));
}
