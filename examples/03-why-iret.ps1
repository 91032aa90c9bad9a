# 03 — Why IRET?
#
# The kernel returns with the fast SYSRETL only when pt_regs says SYSRETL would restore exactly what IRET would.
# Get-ExitPath's what-if mode asks the kernel model's exit policy about a pt_regs we describe, without running
# anything: move ip off the landing pad, or set TF in flags, and SYSRETL becomes IRET. With -PassThru it outputs
# one ExitDecision per question.
param(
    # Write the objects to the pipeline instead of showing them (the examples test uses this).
    [switch] $PassThru
)
Import-Module (Join-Path $PSScriptRoot '../SyscallTools.psd1') -Force

$cpu = New-EmuCpu
$null = $cpu | Invoke-Syscall getpid      # leaves pt_regs as a real fast 32-bit call left them

$questions = [ordered]@{
    'as the call left it'            = @{}
    'ip moved off the landing pad'   = @{ Ip = 0x08048000 }
    'TF set in flags (single-step)'  = @{ Flags = 0x302 }
    'RF set in flags'                = @{ Flags = 0x10202 }
    'a 64-bit code selector in cs'   = @{ Cs = 0x33 }
}
$decisions = foreach ($q in $questions.GetEnumerator()) {
    $params = $q.Value
    $d = Get-ExitPath -Cpu $cpu -Entry Fast32 @params
    Write-Host ("{0,-32} -> {1,-8} {2}" -f $q.Key, $d.Instruction, $d.Reason)
    $d
}

if (-not $PassThru) { $decisions | Out-Host }

# The checks behind the TF case, as the kernel evaluates them:
(Get-ExitPath -Cpu $cpu -Entry Fast32 -Flags 0x302).Checks | Out-Host
if ($PassThru) { $decisions }
