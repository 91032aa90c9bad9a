# 02 — Three ways in.
#
# The same getpid through int $0x80, the raw SYSENTER sequence, and the vDSO, on an Intel machine. int $0x80 always
# works and always leaves through IRET; the fast entries leave through SYSRETL (a 64-bit kernel returns even SYSENTER
# with SYSRETL). With -PassThru it outputs one result per entry.
param(
    # Write the objects to the pipeline instead of showing them (the examples test uses this).
    [switch] $PassThru
)
Import-Module (Join-Path $PSScriptRoot '../SyscallTools.psd1') -Force

$cpu = New-EmuCpu -Vendor Intel
$results = foreach ($via in 'Int80', 'Sysenter', 'Vdso') {
    $r = Invoke-Syscall -Cpu $cpu -Name getpid -Via $via
    Write-Host ("{0,-9} entered with {1,-9} left with {2,-8} returned {3}" -f $via, $r.EntryInstruction, $r.ExitInstruction, $r.Return)
    $r
}
if (-not $PassThru) { $results | Out-Host }

# And one call traced: the user instructions, the entry, the kernel's stub, the C function, the exit.
Write-Host 'The vDSO call, step by step (far transfers and C functions only):'
$cpu | Invoke-Syscall getpid -Trace | Get-EmuTrace -Kind far, call | Out-Host
if ($PassThru) { $results }
