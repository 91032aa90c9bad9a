# 05 — An old kernel versus a new one.
#
# linux-4.2 (before the 2015 entry rewrite) returned a fast 32-bit call wherever the vDSO image chosen at boot
# said (SYSENTER_RETURN) and trusted pt_regs unless a work flag was set; linux-4.4 and 6.18 return every fast entry
# to the vDSO's int80_landing_pad and check pt_regs first. The same what-if — ip moved off the return point — shows
# the difference in policy. With -PassThru it outputs one row per kernel.
param(
    # Write the objects to the pipeline instead of showing them (the examples test uses this).
    [switch] $PassThru
)
Import-Module (Join-Path $PSScriptRoot '../SyscallTools.psd1') -Force

Get-EmuKernel linux-4.2, linux-4.4, linux-6.18 | Out-Host

$rows = foreach ($kernel in 'linux-4.2', 'linux-4.4', 'linux-6.18') {
    $cpu = New-EmuCpu -Vendor Intel -Kernel $kernel
    $r = $cpu | Invoke-Syscall getpid
    $whatIf = Get-ExitPath -Cpu $cpu -Entry Fast32 -Ip 0x08048000
    [pscustomobject]@{
        Kernel          = $kernel
        VdsoImage       = $cpu.Vdso.Flavor
        ExitInstruction = $r.ExitInstruction
        ReturnIp        = '0x{0:x}' -f $r.After.Ip
        PtRegsIp        = '0x{0:x}' -f (Get-PtRegs $cpu).ip
        IpMovedExit     = $whatIf.Instruction
        Checks          = $whatIf.Checks.Count
    }
}
if ($PassThru) { $rows } else { $rows | Format-Table -AutoSize }
