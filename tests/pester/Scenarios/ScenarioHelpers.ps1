# Shared by the selftest scenarios (dot-sourced in BeforeDiscovery and BeforeAll; not a test file itself).
# The matrix is every kernel model x vendor x kernel bitness x task bitness a selftest build could run on; each
# scenario narrows it to where the real kernel would run that build. Expected values in the scenarios come from the
# selftest and kernel sources (../shared/reference/selftests.md, kernel-semantics.md), never from the model's output.

# Signal numbers and sigaction flags (x86 asm/signal.h).
$script:SIGTRAP = 5; $script:SIGBUS = 7; $script:SIGUSR1 = 10; $script:SIGSEGV = 11; $script:SIGILL = 4; $script:SIGUSR2 = 12
$script:SA_SIGINFO = 0x4; $script:SA_RESTORER = 0x04000000; $script:SA_ONSTACK = 0x08000000; $script:SA_RESTART = 0x10000000
$script:TF = 0x100; $script:NT = 0x4000
# The task's pid in the model (getpid, gettid).
$script:TaskPid = 4242

function Get-ScenarioMatrix {
    <# One hashtable per machine: Kernel, Vendor, KernelBits, Bitness and a Name for test titles. #>
    param(
        [int[]] $Bitness = @(32, 64),
        [string[]] $Kernel = @('linux-4.2', 'linux-4.4', 'linux-6.18'),
        [string[]] $Vendor = @('Intel', 'AMD'),
        [int[]] $KernelBits = @(64, 32)
    )
    foreach ($k in $Kernel) {
        foreach ($v in $Vendor) {
            foreach ($kb in $KernelBits) {
                foreach ($tb in $Bitness) {
                    if ($kb -eq 32 -and $tb -eq 64) { continue }   # a 32-bit kernel runs no 64-bit task
                    @{ Kernel = $k; Vendor = $v; KernelBits = $kb; Bitness = $tb; Name = "$k $v $kb-bit kernel, $tb-bit build" }
                }
            }
        }
    }
}

function New-ScenarioCpu {
    param([hashtable] $Case)
    New-EmuCpu -Vendor $Case.Vendor -Kernel $Case.Kernel -KernelBits $Case.KernelBits -Bitness $Case.Bitness
}

function Write-UserCode {
    <# Assembles Intel-syntax lines for the task's bitness at $Address in user memory; returns the address after them. #>
    param($Cpu, [ulong] $Address, [string[]] $Assembly)
    $m = $Cpu.Machine
    [byte[]] $bytes = [SyscallTools.Core.Assembly.IntelSyntax]::Assemble($Assembly, $m.Task.Bitness, $Address)
    $m.Memory.WriteBytes($Address, $bytes)
    $Address + [ulong]$bytes.Length
}

function Set-SignalHandler {
    <#
    rt_sigaction(sig, {handler, flags, restorer, mask 0}). A 64-bit task has no vDSO restorer, so (as libc does) it gets
    SA_RESTORER and a restorer 'mov eax, 15 (rt_sigreturn); syscall' placed in user text; a 32-bit task without
    SA_RESTORER gets the vDSO's __kernel_(rt_)sigreturn from the kernel.
    #>
    param($Cpu, [int] $Signal, [ulong] $Handler, [ulong] $Flags = 0)
    $m = $Cpu.Machine
    [ulong] $restorer = 0
    if ($m.Task.Bitness -eq 64) {
        $restorer = $m.UserText + 0x0F00
        $null = Write-UserCode $Cpu $restorer 'mov eax, 15', 'syscall'
        $Flags = $Flags -bor $SA_RESTORER
    }
    $m.SignalState.Actions[$Signal] = [SyscallTools.Core.Linux.SignalAction]::new($Handler, $Flags, $restorer, 0)
}

# (0xFFFFFFFF is the Int32 -1 to PowerShell, so the mask is written as a [ulong].)
function Get-Low32([ulong] $Value) { $Value -band [ulong]4294967295 }
function ConvertTo-Int32([ulong] $Value) { [BitConverter]::ToInt32([BitConverter]::GetBytes($Value), 0) }
