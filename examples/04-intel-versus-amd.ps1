# 04 — Intel versus AMD.
#
# The vendors disagree about the fast instructions outside their home mode: AMD refuses SYSENTER in long mode, Intel
# refuses SYSCALL outside 64-bit mode. A 64-bit kernel therefore patches the 32-bit vDSO differently on each, and a
# 32-bit program that hard-codes one instruction dies with SIGILL on the other vendor. With -PassThru it outputs one row
# per vendor and entry.
param(
    # Write the objects to the pipeline instead of showing them (the examples test uses this).
    [switch] $PassThru
)
Import-Module (Join-Path $PSScriptRoot '../SyscallTools.psd1') -Force

Get-EmuCpuProfile | Format-Table | Out-Host

$rows = foreach ($vendor in 'Intel', 'AMD') {
    foreach ($via in 'Vdso', 'Sysenter', 'Syscall') {
        $cpu = New-EmuCpu -Vendor $vendor          # fresh each time: SIGILL kills the task
        $r = $cpu | Invoke-Syscall getpid -Via $via
        [pscustomobject]@{
            Vendor           = $vendor
            Via              = $via
            VdsoUses         = $cpu.Vdso.EntryVariant
            EntryInstruction = $r.EntryInstruction
            ExitInstruction  = $r.ExitInstruction
            Signal           = $r.Signal
        }
    }
}
if ($PassThru) { $rows } else { $rows | Format-Table -AutoSize }
