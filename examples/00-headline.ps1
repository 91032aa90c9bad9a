# The headline experiment: one getpid through every entry method, on each vendor and kernel model.
#
# Read a row as: a task of this bitness, on this vendor's processor running this kernel, entered with this method.
# EntryInstruction is what actually entered the kernel (the vDSO picks one), ExitInstruction what left it, and
# ExitTo where the kernel's exit sent user space (the vDSO landing pad after the rewrite; SYSENTER_RETURN or the
# instruction after SYSCALL before it). A Signal means the processor refused the entry instruction (#UD -> SIGILL).
param(
    # Write the rows to the pipeline instead of printing the table (the examples test uses this).
    [switch] $PassThru
)
Import-Module (Join-Path $PSScriptRoot '../SyscallTools.psd1') -Force

$rows = foreach ($vendor in 'Intel', 'AMD') {
    foreach ($kernel in 'linux-4.2', 'linux-4.4', 'linux-6.18') {
        $entries = @(
            foreach ($via in 'Int80', 'Sysenter', 'Syscall', 'Vdso') { @{ Bitness = 32; Via = $via } }
            @{ Bitness = 64; Via = 'Syscall' }
        )
        foreach ($e in $entries) {
            # A fresh machine per row: an entry that raises SIGILL kills the task.
            $r = New-EmuCpu -Vendor $vendor -Kernel $kernel -Bitness $e.Bitness | Invoke-Syscall getpid -Via $e.Via
            [pscustomobject]@{
                Vendor           = $vendor
                Kernel           = $kernel
                Task             = "$($e.Bitness)-bit"
                Via              = $r.Via
                EntryInstruction = $r.EntryInstruction
                ExitInstruction  = $r.ExitInstruction
                Return           = if ($r.Completed) { $r.Return }
                Signal           = $r.Signal
                ExitTo           = if ($r.ExitSymbol) { $r.ExitSymbol } elseif ($r.ExitIp) { '0x{0:x}' -f $r.ExitIp }
            }
        }
    }
}
if ($PassThru) { $rows } else { $rows | Format-Table -AutoSize | Out-String -Width 250 | Write-Host }
