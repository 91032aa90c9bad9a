# 01 — A first system call.
#
# Boot a machine (an AMD processor, linux-6.18, a 64-bit kernel, a 32-bit task), ask the kernel for the task's pid,
# and look at what came back. With -PassThru it outputs the machine, the result and pt_regs.
param(
    # Write the objects to the pipeline instead of showing them (the examples test uses this).
    [switch] $PassThru
)
Import-Module (Join-Path $PSScriptRoot '../SyscallTools.psd1') -Force

$cpu = New-EmuCpu
Write-Host "Booted: $cpu. The vDSO's __kernel_vsyscall uses $($cpu.Vdso.EntryVariant)."
$cpu | Out-Host

# A 32-bit libc calls __kernel_vsyscall (the vDSO): that is Invoke-Syscall's default for a 32-bit task.
$result = $cpu | Invoke-Syscall -Name getpid
Write-Host "getpid returned $($result.Return): in through $($result.EntryInstruction), out through $($result.ExitInstruction)."
$result | Out-Host

# The kernel saved the user registers in pt_regs on its stack: orig_ax is the number (20 = getpid on i386),
# ax the return value, ip where user space resumes (the vDSO's landing pad).
Write-Host 'What the kernel saved (struct pt_regs):'
$regs = Get-PtRegs $cpu
$regs | Out-Host

if ($PassThru) { $cpu; $result; $regs }
