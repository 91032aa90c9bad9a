# 06 — Ptrace edits that force IRET.
#
# A tracer stopped at a syscall stop may rewrite pt_regs (PTRACE_POKEUSER). The kernel cannot know what it changed,
# so after the stop the exit policy checks pt_regs again: anything SYSRETL/SYSRETQ cannot restore sends the call back
# through IRET. Here one tracer edit per row, each at the syscall-exit stop of a getpid, and the exit that follows:
#   * nothing          — the call leaves as it came (SYSRETL through the vDSO on AMD, linux-6.18);
#   * ax = 7           — user space sees 7; ax is not an exit condition, so SYSRETL still;
#   * ip moved         — off the landing pad: IRET ("regs->ip == landing pad" fails); the vDSO's pops then start one
#                        byte late, its ret goes astray, and the task dies of SIGSEGV;
#   * TF set           — SYSRET would trap right after itself: IRET; the task single-steps, and with no SIGTRAP
#                        handler the first trap kills it;
#   * cs = 0x33        — a 64-bit selector for a 32-bit task: IRET, which really loads it: the vDSO's 32-bit code runs
#                        in 64-bit mode and soon faults (SIGSEGV);
# and at the entry stop:
#   * orig_ax = 64     — the number is re-read after the stop: getppid runs instead (returns 1).
# With -PassThru it outputs one row per edit.
param(
    # Write the objects to the pipeline instead of showing them (the examples test uses this).
    [switch] $PassThru
)
Import-Module (Join-Path $PSScriptRoot '../SyscallTools.psd1') -Force

$edits = [ordered]@{
    'nothing'       = $null
    'ax = 7'        = @{ At = 'SyscallExit'; Ax = 7 }
    'ip moved'      = @{ At = 'SyscallExit'; ScriptBlock = { $_.Poke('ip', $_.Peek('ip') + 1) } }
    'TF set'        = @{ At = 'SyscallExit'; ScriptBlock = { $_.Poke('flags', $_.Peek('flags') -bor 0x100) } }
    'cs = 0x33'     = @{ At = 'SyscallExit'; Cs = 0x33 }
    'orig_ax = 64'  = @{ At = 'SyscallEntry'; OrigAx = 64 }
}

$rows = foreach ($name in $edits.Keys) {
    $cpu = New-EmuCpu -Vendor AMD -Kernel linux-6.18
    $edit = $edits[$name]
    if ($edit) { Set-PtRegs -Cpu $cpu @edit }
    $r = $cpu | Invoke-Syscall getpid -Via Vdso -MaxInstructions 20000
    $failed = $r.ExitPath.Checks | Where-Object { -not $_.Passed } | Select-Object -First 1
    [pscustomobject]@{
        Edit            = $name
        Return          = $r.Return
        ExitInstruction = $r.ExitInstruction
        FailedCheck     = if ($failed) { $failed.Name }
        Signal          = $r.Signal
    }
}
if ($PassThru) { $rows } else { $rows | Format-Table -AutoSize | Out-String -Width 200 | Write-Host }
