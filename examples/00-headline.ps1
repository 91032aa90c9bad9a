# The headline experiment (so far): which fast system-call instructions each processor model supports,
# and how each vendor's SYSRET differs. The vendor × kernel × entry-method table arrives with the kernel model.
Import-Module (Join-Path $PSScriptRoot '../SyscallTools.psd1') -Force
Get-EmuCpuProfile | Format-Table -AutoSize
