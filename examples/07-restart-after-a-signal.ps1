# 07 — Restart after a signal.
#
# A blocking call (read(), pause(), nanosleep()) that a signal interrupts returns -ERESTARTSYS (-512) inside the kernel.
# On the way out the kernel finds the signal pending and, because the handler was installed with SA_RESTART, sets
# things up so that the call is made again once the handler returns (kernel-semantics.md §6.3):
#     regs->ax = regs->orig_ax;   regs->ip -= 2;
# then builds the signal frame from those registers, so the frame says "resume at ip - 2 with the call's number in ax".
# For a 32-bit task that entered through the vDSO, ip was the landing pad, so ip - 2 is the vDSO's own `int $0x80`
# just before it: the restarted call goes in through INT 0x80 whatever instruction the first attempt used (§6.4).
#
# Here: a 32-bit task on Intel (its vDSO uses SYSENTER), linux-6.18. A SIGUSR1 handler of a few instructions counts its
# runs and returns; it has SA_RESTART and no SA_RESTORER, so the kernel sends it back through the vDSO's
# __kernel_sigreturn. SIGUSR1 is made pending, then a read() of stdin is issued; a tracer (Set-PtRegs) writes
# ax = -ERESTARTSYS at its syscall-exit stop, which is exactly what the interrupted read would have returned. With
# -PassThru it outputs one summary object and the trace events of the story.
param(
    # Write the objects to the pipeline instead of showing them (the examples test uses this).
    [switch] $PassThru
)
Import-Module (Join-Path $PSScriptRoot '../SyscallTools.psd1') -Force

$cpu = New-EmuCpu -Vendor Intel -Kernel linux-6.18
$m = $cpu.Machine
$landingPad = $cpu.Vdso.LandingPad

# The handler: a few instructions in the task's text that count in the data area and return.
$counter = $m.UserDataArea + 0x100
$handler = $m.UserText + 0x100
$code = [SyscallTools.Core.Assembly.IntelSyntax]::Assemble([string[]]@("inc dword ptr [$counter]", 'ret'), 32, $handler)
$m.Memory.WriteBytes($handler, $code)
$SIGUSR1 = 10
$SA_RESTART = 0x10000000
$m.SignalState.Actions[$SIGUSR1] = [SyscallTools.Core.Linux.SignalAction]::new($handler, $SA_RESTART, 0, 0)

# The signal arrives while the call is in progress: it is pending when the call finishes.
$m.SendSignal($SIGUSR1)

# The interruption: at the syscall-exit stop the call "returned" -ERESTARTSYS. (Only once: the restarted call is left alone.)
$atStop = @{}
Set-PtRegs $cpu -At SyscallExit -ScriptBlock {
    $atStop.Ip = $_.Peek('ip')
    $atStop.Ax = $_.Peek('ax')
    $_.Poke('ax', 0xfffffe00u)        # -ERESTARTSYS (-512) as a 32-bit register holds it
}.GetNewClosure()

$buffer = $m.UserDataArea + 0x200
$r = $cpu | Invoke-Syscall read -ArgumentList 0, $buffer, 16 -Via Vdso -Trace

# What the signal frame saved: where the task resumes after the handler (struct sigframe_ia32: sc at +8, sc.ip at +56).
$savedIp = $m.Memory.ReadUInt32($m.LastSignalFrame + 8 + 56)
$savedAx = $m.Memory.ReadUInt32($m.LastSignalFrame + 8 + 44)

# The re-entry: the user instruction executed at landing pad - 2. And the story's far transfers: SYSENTER in, IRET to
# the handler, the handler's return into __kernel_sigreturn and its int $0x80, IRET to landing pad - 2, the restarted
# read() in through INT 0x80 and out through IRET to the landing pad.
$reentry = $r | Get-EmuTrace -Kind insn -Ring 3 | Where-Object { $_.Address -eq $landingPad - 2 } | Select-Object -First 1
$story = @($r | Get-EmuTrace -Kind far)

$summary = [pscustomobject]@{
    LandingPad      = '0x{0:x}' -f $landingPad
    IpAtExitStop    = '0x{0:x}' -f $atStop.Ip
    SavedIp         = '0x{0:x}' -f $savedIp
    SavedAx         = $savedAx                      # the call's number again (orig_ax): 3, read
    ReentryAt       = if ($reentry) { '0x{0:x}' -f $reentry.Address }
    ReentryText     = if ($reentry) { $reentry.Text }
    HandlerRuns     = $m.Memory.ReadUInt32($counter)
    FirstEntry      = $r.EntryInstruction
    LastExit        = $r.ExitInstruction
    Return          = $r.Return
}

if ($PassThru) {
    $summary
    $story
    return
}

Write-Host "read() entered through $($summary.FirstEntry); at its exit stop ip was the landing pad, $($summary.IpAtExitStop)."
Write-Host "With SIGUSR1 pending and SA_RESTART, the frame saved ip = $($summary.SavedIp) (landing pad - 2) and ax = $($summary.SavedAx) (read's number)."
Write-Host "The handler ran $($summary.HandlerRuns) time(s); __kernel_sigreturn brought the task back to $($summary.ReentryAt): '$($summary.ReentryText)'."
Write-Host "The restarted read() returned $($summary.Return), leaving by $($summary.LastExit)."
$story | Format-Table Sequence, Ring, @{ n = 'Address'; e = { '0x{0:x}' -f $_.Address } }, Symbol, Text -AutoSize | Out-String -Width 220 | Write-Host
