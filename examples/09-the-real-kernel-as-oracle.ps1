# 09 — The real kernel as oracle.
#
# Everything so far was the model's word. Compare-HostKernel asks this machine's kernel the same questions: it writes
# small static programs (no compiler: Intel syntax assembled by the module, wrapped in an ELF header it writes), runs
# each on the host — under ptrace from this process where a tracer is part of the question — and runs the very same
# bytes in the emulator, on linux-6.18 with a CPU of the host's vendor. Addresses are shown relative to the program's
# labels, the vDSO base or the initial stack pointer, so they compare across ASLR.
#
# Two questions here:
#   ptrace-vdso-32       a 32-bit close(-1) through __kernel_vsyscall, as a 64-bit tracer sees it at the entry and exit
#                        stops: ip is the vDSO's landing pad and the two bytes before it are `cd 80` (example 07's
#                        restart target), orig_ax is 6, ax is -ENOSYS at entry and -EBADF at exit, r8..r11 are zero.
#   restart-read-vdso-32 read() on an empty pipe, interrupted first by an ignored signal (the kernel restarts it at ip-2)
#                        and then by a SIGUSR1 whose SA_RESTART handler writes a byte: every stop, in order.
# -HostVdso maps the host's own vDSO in the emulated task, so even the vDSO offsets must agree. On a host that cannot
# run the programs (not Linux x86-64, no 32-bit support, no ptrace) each scenario is one row that says why.
param(
    # Write the objects to the pipeline instead of showing them (the examples test uses this).
    [switch] $PassThru
)
Import-Module (Join-Path $PSScriptRoot '../SyscallTools.psd1') -Force

$rows = @(Compare-HostKernel 'ptrace-vdso-32', 'restart-read-vdso-32' -HostVdso -WarningAction SilentlyContinue)

if ($PassThru) {
    $rows
    return
}

$skipped = @($rows | Where-Object Skipped)
if ($skipped) {
    Write-Host "Not on this host: $($skipped[0].SkipReason)."
    return
}
$rows | Where-Object { $_.Field -like 'entry.*' -or $_.Field -like 'stop0[1-6].*' } | Format-Table Scenario, Field, Host, Emulated, Agree
$bad = @($rows | Where-Object { -not $_.Agree })
Write-Host "$($rows.Count) observables, $($rows.Count - $bad.Count) agree, $($bad.Count) disagree."
