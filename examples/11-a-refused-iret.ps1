# 11 — A sigreturn that IRET refuses.
#
# sigreturn puts back whatever the signal frame says, CS and SS included (with RPL forced to 3). Whether the CPU accepts
# those selectors is decided only by the IRET that returns to user mode — in ring 0, on the kernel's own exit path.
# The kernel must turn that fault into the user's problem (CVE-2014-9090/9322 were about getting this wrong):
#   * a 64-bit kernel's #GP handler sees the fault at native_irq_return_iret and calls fixup_bad_iret(), which builds a
#     user-mode pt_regs from the IRET frame; the task gets SIGSEGV as if it had faulted itself (trapno 13, the error
#     code naming the selector);
#   * a 32-bit kernel's exception table sends the fault at irq_return to iret_exc: do_iret_error() sends SIGILL with
#     trapno 32 (X86_TRAP_IRET) and error 0.
# And the version matters: before 4.6 the 64-bit sigcontext had no SS at all (the slot was __pad0), so a 64-bit
# sigreturn never even tried the bad SS (kernel-semantics.md §6; arch/x86/kernel/signal.c).
#
# Here: raise(SIGUSR1); the handler writes SS = the task's own code segment into its frame and points SP at garbage; a
# SIGSEGV/SIGILL handler runs on a sigaltstack (SA_ONSTACK, since SP is garbage) and records what its sigcontext says,
# then exits. With -PassThru it outputs one row per machine.
param(
    # Write the objects to the pipeline instead of showing them (the examples test uses this).
    [switch] $PassThru
)
Import-Module (Join-Path $PSScriptRoot '../SyscallTools.psd1') -Force

$SIGUSR1 = 10; $SIGSEGV = 11; $SIGILL = 4
$SA_SIGINFO = 0x4; $SA_ONSTACK = 0x08000000; $SA_RESTORER = 0x04000000

$rows = foreach ($machine in @(
        @{ Kernel = 'linux-6.18'; KernelBits = 64; Bitness = 64 },
        @{ Kernel = 'linux-4.4'; KernelBits = 64; Bitness = 64 },
        @{ Kernel = 'linux-6.18'; KernelBits = 32; Bitness = 32 })) {
    $cpu = New-EmuCpu -Vendor Intel -Kernel $machine.Kernel -KernelBits $machine.KernelBits -Bitness $machine.Bitness
    $m = $cpu.Machine
    $is64 = $machine.Bitness -eq 64
    $data = $m.UserDataArea
    $usr1 = $m.UserText + 0x100; $fault = $m.UserText + 0x300; $restorer = $m.UserText + 0xF00
    $myCs = if ($machine.KernelBits -eq 64) { 0x33 } else { 0x73 }

    # The alternate stack: stack_t { ss_sp, ss_flags, ss_size } for the ABI, registered with sigaltstack() below.
    $stackT = if ($is64) { [BitConverter]::GetBytes([ulong]($data + 0x1000)) + [byte[]]::new(8) + [BitConverter]::GetBytes([ulong]0x2000) }
              else { [BitConverter]::GetBytes([uint]($data + 0x1000)) + [byte[]]::new(4) + [BitConverter]::GetBytes([uint]0x2000) }
    $m.Memory.WriteBytes($data + 0x40, [byte[]]$stackT)

    # Handlers (uc_mcontext at ucontext + 40 on x86-64, + 20 on i386; sigcontext offsets from asm/sigcontext.h).
    $asm = if ($is64) {
        @{ Usr1 = 'mov word ptr [rdx+190], {0}', 'mov qword ptr [rdx+160], 0x1000', 'ret'
           Fault = "mov [$data], edi", "mov rax, [rdx+200]", "mov [$($data + 8)], rax", "mov rax, [rdx+192]", "mov [$($data + 16)], rax",
                   "movzx eax, word ptr [rdx+190]", "mov [$($data + 24)], eax", 'xor edi, edi', 'mov eax, 60', 'syscall'
           Main = "mov edi, $($data + 0x40)", 'xor esi, esi', 'mov eax, 131', 'syscall',
                  'mov edi, 4242', 'mov esi, 4242', "mov edx, $SIGUSR1", 'mov eax, 234', 'syscall' }
    } else {
        @{ Usr1 = 'mov edx, [esp+12]', 'mov dword ptr [edx+92], {0}', 'mov dword ptr [edx+48], 0x1000', 'ret'
           Fault = 'mov eax, [esp+4]', "mov [$data], eax", 'mov edx, [esp+12]', 'mov eax, [edx+68]', "mov [$($data + 8)], eax",
                   'mov eax, [edx+72]', "mov [$($data + 16)], eax", 'mov eax, [edx+92]', "mov [$($data + 24)], eax", 'xor ebx, ebx', 'mov eax, 1', 'int 0x80'
           Main = "mov ebx, $($data + 0x40)", 'xor ecx, ecx', 'mov eax, 186', 'int 0x80',
                  'mov ebx, 4242', "mov ecx, $SIGUSR1", 'mov eax, 37', 'int 0x80' }
    }
    $bits = $machine.Bitness
    $m.Memory.WriteBytes($usr1, [SyscallTools.Core.Assembly.IntelSyntax]::Assemble([string[]]($asm.Usr1 -replace '\{0\}', $myCs), $bits, $usr1))
    $m.Memory.WriteBytes($fault, [SyscallTools.Core.Assembly.IntelSyntax]::Assemble([string[]]$asm.Fault, $bits, $fault))
    # x86-64 has no vDSO restorer: a libc-style one, mov eax, __NR_rt_sigreturn; syscall.
    if ($is64) { $m.Memory.WriteBytes($restorer, [byte[]](0xB8, 15, 0, 0, 0, 0x0F, 0x05)) }
    $extra = if ($is64) { $SA_RESTORER } else { 0 }
    $rest = if ($is64) { [ulong]$restorer } else { [ulong]0 }
    $m.SignalState.Actions[$SIGUSR1] = [SyscallTools.Core.Linux.SignalAction]::new($usr1, $SA_SIGINFO -bor $extra, $rest, 0)
    foreach ($s in $SIGSEGV, $SIGILL) {
        $m.SignalState.Actions[$s] = [SyscallTools.Core.Linux.SignalAction]::new($fault, $SA_SIGINFO -bor $SA_ONSTACK -bor $extra, $rest, 0)
    }

    $r = $cpu | Invoke-EmuCode -Assembly $asm.Main -MaxInstructions 100000
    $sig = $m.Memory.ReadUInt32($data)
    [pscustomobject]@{
        Kernel      = $machine.Kernel
        KernelBits  = $machine.KernelBits
        RequestedSs = '0x{0:x}' -f $myCs
        Signal      = if ($sig) { [SyscallTools.Core.Linux.Signal]::Name([int]$sig) } else { 'none' }
        Trapno      = if ($sig) { [int]$m.Memory.ReadUInt32($data + 8) } else { $null }
        Err         = if ($sig) { '0x{0:x}' -f $m.Memory.ReadUInt32($data + 16) } else { $null }
        FrameSs     = if ($sig) { '0x{0:x}' -f ($m.Memory.ReadUInt32($data + 24) -band 0xFFFF) } else { $null }
        Path        = @($r.KernelEntries | ForEach-Object CFunctions | Where-Object { $_ -in 'fixup_bad_iret', 'do_iret_error' -or $_ -like 'exc_handler(*' }) -join ' -> '
        Outcome     = $r.Outcome
    }
}

if ($PassThru) { $rows } else { $rows | Format-Table -AutoSize }
