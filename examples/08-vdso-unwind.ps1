# 08 — Can a debugger unwind out of the vDSO at every instruction?
#
# The selftest unwind_vdso single-steps syscall(SYS_getpid, 1, 2, 3, 4, 5, 6) through __kernel_vsyscall and, at every
# trap inside the vDSO, asks the unwinder for the caller's frame: the return address its CALL pushed, and ebx..ebp =
# 1..6. That only works if the vDSO's .eh_frame is right at every instruction, including the landing pad the fast
# entries return to. Here the same check for every kernel model and vendor (each with its own image: the unified one
# patched by alternatives, or one of the three pre-rewrite images), for an image with one deliberately wrong
# DW_CFA_def_cfa_offset (only the instruction it covers fails), and for a real vDSO dumped from this machine.
# With -PassThru it outputs one row per image.
param(
    # Write the objects to the pipeline instead of showing them (the examples test uses this).
    [switch] $PassThru
)
Import-Module (Join-Path $PSScriptRoot '../SyscallTools.psd1') -Force

function Summary($cpu, [string] $image) {
    $steps = @($cpu | Test-VdsoUnwind -ArgumentList 1, 2, 3, 4, 5, 6)
    $bad = @($steps | Where-Object { -not $_.Passed })
    [pscustomobject]@{
        Kernel  = $cpu.Kernel
        Vendor  = $cpu.Vendor
        Image   = $image
        Entry   = $cpu.Vdso.EntryVariant
        Steps   = $steps.Count
        Failed  = $bad.Count
        FirstFailure = if ($bad) { '{0} ({1}): {2}' -f $bad[0].Disassembly, $bad[0].Symbol, $bad[0].Mismatch }
    }
}

$rows = @(
    # The 2015 design models (linux-4.4+…) share linux-4.4's vDSO, so the released kernels cover every image.
    foreach ($kernel in (Get-EmuKernel).Name -notlike '*+*') {
        foreach ($vendor in 'Intel', 'AMD') {
            $cpu = New-EmuCpu -Vendor $vendor -Kernel $kernel
            Summary $cpu $cpu.Vdso.Flavor
        }
    }
    # The same image with its second DW_CFA_def_cfa_offset (after push edx) written 4 too large: a test hook.
    $cpu = New-EmuCpu -Vendor AMD -Kernel linux-6.18
    $m = $cpu.Machine
    $m.ReplaceVdso([SyscallTools.Core.Linux.Vdso.VdsoBuilder]::Build($m.Model, $m.KernelBits, $m.Features, 1))
    Summary $cpu 'unified, one CFA offset broken'
    # This machine's own 32-bit vDSO (tests/SyscallTools.Core.Tests/Elf/Images/README.md says how it was dumped).
    $cpu = New-EmuCpu -Vendor Intel -Kernel linux-6.18
    Import-EmuVdso -Cpu $cpu (Join-Path $PSScriptRoot '../tests/SyscallTools.Core.Tests/Elf/Images/host-vdso32.so')
    Summary $cpu 'host-vdso32.so (real)'
)
if ($PassThru) { $rows } else { $rows | Format-Table -AutoSize | Out-String -Width 200 | Write-Host }
