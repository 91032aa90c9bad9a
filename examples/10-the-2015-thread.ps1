# 10 — The 2015 thread, run.
#
# In September 2015 Andy Lutomirski posted the rewrite of the 32-bit entries: C instead of asm, one vDSO, the return
# through int80_landing_pad, and an opportunistic SYSRETL/SYSEXIT that checks CS, SS, IP and the flags on every fast
# call — "a ~25 cycle performance hit on 32-bit fast path syscalls". Brian Gerst proposed moving the checks off the
# fast path with a TS_FASTSYSCALL status flag that force_iret() clears; Andy preferred bypassing the slow exit when no
# _TIF_SYSCALL_EXIT_WORK is set, and floated pt_regs accessors whose write side sets a flag. Each is a kernel model here
# (linux-4.4+fastsyscall-flag, linux-4.4+exit-work-bypass, linux-4.4+ptregs-accessors), next to the asm fast path
# before the rewrite (linux-4.2) and the rewrite as released (linux-4.4).
#
# For each vendor and kernel (a 64-bit kernel running the 32-bit task in compat mode, and a native 32-bit kernel) the
# table gives the modelled cycles of a plain getpid through the vDSO, the difference to linux-4.4, and the scenarios in
# which the task sees something other than what linux-4.4 shows it (Compare-EmuKernel's scenarios: the task's own TF,
# a signal handler, kill(getpid(), SIGTERM), a tracer's edit). Cycles come from the cost model (about_SyscallTools_Cost):
# the Intel table is calibrated so that linux-4.4 costs +18 over linux-4.2 on the compat path (the thread's +25 less the
# −6…−8 of the later prepare_exit_to_usermode split); everything else in the table is a prediction.
#
# Then the ground truth: this machine's real kernel timed for the same calls (Measure-HostSyscall), beside the model.
param(
    # Write the objects to the pipeline instead of showing them (the examples test uses this).
    [switch] $PassThru
)
Import-Module (Join-Path $PSScriptRoot '../SyscallTools.psd1') -Force

$kernels = 'linux-4.2', 'linux-4.4', 'linux-4.4+fastsyscall-flag', 'linux-4.4+exit-work-bypass', 'linux-4.4+ptregs-accessors'
$table = @(
    foreach ($vendor in 'Intel', 'AMD') {
        foreach ($bits in 64, 32) {
            $rows = New-EmuCpu -Vendor $vendor -KernelBits $bits | Compare-EmuKernel -Kernel $kernels -Baseline linux-4.4
            foreach ($k in $kernels) {
                $mine = @($rows | Where-Object Kernel -eq $k)
                $plain = $mine | Where-Object Scenario -eq 'getpid'
                [pscustomobject]@{
                    Vendor        = $vendor
                    Kernel        = if ($bits -eq 64) { 'compat (64-bit)' } else { 'native 32-bit' }
                    Model         = $k
                    Exit          = $plain.ExitInstruction
                    Cycles        = $plain.Cycles
                    VsLinux44     = $plain.Delta
                    DiffersIn     = (@($mine | Where-Object { -not $_.Correct } | ForEach-Object Scenario) -join ', ')
                }
            }
        }
    }
)

# The real kernel on this machine for the paths the host can run, beside the model (linux-6.18, the host's vendor).
$hostRows = @(Measure-HostSyscall -Method vdso-32, int80-32, syscall-64 -Iterations 50000 -WarningAction SilentlyContinue)
$vendor = if (@($hostRows | Where-Object Vendor -match 'AMD').Count) { 'AMD' } else { 'Intel' }
$ghz = (Get-Content /proc/cpuinfo -ErrorAction SilentlyContinue | Select-String -Pattern '^cpu MHz\s*:\s*([\d.]+)' |
    Select-Object -First 1 | ForEach-Object { [double]$_.Matches[0].Groups[1].Value / 1000 })
$truth = @(
    foreach ($h in $hostRows) {
        $via, $tbits = switch ($h.Method) { 'vdso-32' { 'Vdso', 32 } 'int80-32' { 'Int80', 32 } default { 'Syscall', 64 } }
        $est = New-EmuCpu -Vendor $vendor -Kernel linux-6.18 -Bitness $tbits | Invoke-Syscall getpid -Via $via -Trace | Measure-SyscallPath
        [pscustomobject]@{
            Path            = $h.Method
            HostNs          = $h.NsPerCall
            ModelCycles     = $est.Cycles
            ModelNsAtClock  = if ($ghz) { [math]::Round($est.Cycles / $ghz, 1) } else { $null }
            Note            = $h.SkipReason
        }
    }
)

if ($PassThru) {
    $table
    $truth
    return
}
$table | Format-Table Vendor, Kernel, Model, Exit, @{ n = 'Cycles'; e = { $_.Cycles.ToString('0.#') } },
    @{ n = 'vs 4.4'; e = { $_.VsLinux44.ToString('+0.#;-0.#;0') } }, DiffersIn -AutoSize | Out-String -Width 160 | Write-Host
"The real kernel on this machine (Measure-HostSyscall) beside the model's linux-6.18 estimate" +
    $(if ($ghz) { " (at the $ghz GHz /proc/cpuinfo reports)" } else { '' }) + ':' | Write-Host
$truth | Format-Table -AutoSize | Out-String -Width 160 | Write-Host
