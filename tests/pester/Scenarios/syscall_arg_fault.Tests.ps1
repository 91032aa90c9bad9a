# syscall_arg_fault (tools/testing/selftests/x86/syscall_arg_fault.c @ 4b419325; both bitnesses): every GPR and ESP
# set to -1 with 32-bit moves, then SYSENTER, or `syscall; ud2`. The kernel cannot fetch the stack argument (arg 6 of
# a fast 32-bit entry, from (u32)regs->sp), returns -EFAULT, and the return to the broken user stack faults:
# "[OK] Seems okay" for SIGSEGV/SIGBUS with AX == -EFAULT or -ENOSYS. A SIGILL on the ud2 means SYSCALL returned
# normally (the 64-bit build: nr (int)0xffffffff = -1 gives -ENOSYS) and is OK too; a SIGILL on the entry instruction
# itself is "[SKIP] Illegal instruction" (SYSENTER on AMD in long mode, 32-bit SYSCALL on Intel or on a 32-bit kernel).
#
# As in the selftest, main() sets up a sigaltstack and the SIGSEGV, SIGBUS and SIGILL handlers run SA_ONSTACK (ESP is
# -1): they read AX and IP from their ucontext. Here each records signal, AX and IP and exits instead of siglongjmp().
# The repetitions with TF set add a SA_ONSTACK SIGTRAP handler (the selftest's KVM "stuck single-stepping" detector,
# here a counter). Not run: the 64-bit build's SYSENTER with a negative GSBASE (wrgsbase, which the model does not decode).
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'ScenarioHelpers.ps1')
    # Which instructions the CPU refuses (#UD): SYSENTER on AMD in long mode; SYSCALL from 32-bit code on Intel, and on
    # a 32-bit kernel, which never sets EFER.SCE.
    $script:Cases = @(foreach ($c in Get-ScenarioMatrix) {
            foreach ($insn in 'sysenter', 'syscall') {
                $ud = if ($insn -eq 'sysenter') { $c.Vendor -eq 'AMD' -and $c.KernelBits -eq 64 }
                      else { $c.Bitness -eq 32 -and ($c.Vendor -eq 'Intel' -or $c.KernelBits -eq 32) }
                foreach ($tf in $false, $true) { $c + @{ Insn = $insn; Ud = $ud; Tf = $tf; With = $(if ($tf) { 'TF and ' } else { '' }) } }
            }
        })
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../../SyscallTools.psd1') -Force
    . (Join-Path $PSScriptRoot 'ScenarioHelpers.ps1')
    $script:EFAULT = 14; $script:ENOSYS = 38

    # Data area: +0 the signal, +8 AX and +0x10 IP from the handler's ucontext, +0x18 SIGTRAPs counted, +0x40 stack_t,
    # +0x1000 the alternate stack.
    function Invoke-ArgFault([hashtable] $Case) {
        $cpu = New-ScenarioCpu $Case
        $m = $cpu.Machine
        $d = $m.UserDataArea; $fault = $m.UserText + 0x100; $trap = $m.UserText + 0x300
        if ($Case.Bitness -eq 64) {
            $m.Memory.WriteBytes($d + 0x40, [byte[]]([BitConverter]::GetBytes([ulong]($d + 0x1000)) + [byte[]]::new(8) + [BitConverter]::GetBytes([ulong]0x2000)))
            $null = Write-UserCode $cpu $fault "mov [$d], edi", "mov rax, [rdx+$(40 + 104)]", "mov [$($d + 8)], rax", "mov rax, [rdx+$(40 + 128)]", "mov [$($d + 0x10)], rax", 'xor edi, edi', 'mov eax, 60', 'syscall'
            $null = Write-UserCode $cpu $trap "inc dword ptr [$($d + 0x18)]", 'ret'
            $setup = "mov edi, $($d + 0x40)", 'xor esi, esi', 'mov eax, 131', 'syscall'
        } else {
            $m.Memory.WriteBytes($d + 0x40, [byte[]]([BitConverter]::GetBytes([uint]($d + 0x1000)) + [byte[]]::new(4) + [BitConverter]::GetBytes([uint]0x2000)))
            $null = Write-UserCode $cpu $fault 'mov eax, [esp+4]', "mov [$d], eax", 'mov edx, [esp+12]', "mov eax, [edx+$(20 + 44)]", "mov [$($d + 8)], eax", "mov eax, [edx+$(20 + 56)]", "mov [$($d + 0x10)], eax", 'xor ebx, ebx', 'mov eax, 1', 'int 0x80'
            $null = Write-UserCode $cpu $trap "inc dword ptr [$($d + 0x18)]", 'ret'
            $setup = "mov ebx, $($d + 0x40)", 'xor ecx, ecx', 'mov eax, 186', 'int 0x80'
        }
        foreach ($s in $SIGSEGV, $SIGBUS, $SIGILL) { Set-SignalHandler $cpu $s $fault ($SA_SIGINFO -bor $SA_ONSTACK) }
        if ($Case.Tf) { Set-SignalHandler $cpu $SIGTRAP $trap ($SA_SIGINFO -bor $SA_ONSTACK) }
        $setTf = if (-not $Case.Tf) { @() } elseif ($Case.Bitness -eq 64) { 'pushfq', 'or dword ptr [rsp], 0x100', 'popfq' } else { 'pushfd', 'or dword ptr [esp], 0x100', 'popfd' }
        $regs = 'eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp', 'esp'
        $code = @($setup) + $setTf + @($regs | ForEach-Object { "mov $_, -1" })
        $entryAt = Write-UserCode $cpu $m.UserCodeAddress $code
        $r = $cpu | Invoke-EmuCode -Assembly ($code + $Case.Insn + 'ud2') -MaxInstructions 100000
        $sig = $m.Memory.ReadUInt32($d)
        [pscustomobject]@{
            Run = $r; EntryAt = $entryAt; Signal = $sig; Traps = $m.Memory.ReadUInt32($d + 0x18)
            Ax = if ($Case.Bitness -eq 64) { [BitConverter]::ToInt64([BitConverter]::GetBytes($m.Memory.ReadUInt64($d + 8)), 0) } else { ConvertTo-Int32 $m.Memory.ReadUInt32($d + 8) }
            Ip = if ($Case.Bitness -eq 64) { $m.Memory.ReadUInt64($d + 0x10) } else { [ulong]$m.Memory.ReadUInt32($d + 0x10) }
        }
    }
}

Describe 'syscall_arg_fault' {
    Context '[RUN] <Insn> with <With>invalid state (<Name>)' -ForEach $Cases {
        BeforeAll {
            $out = Invoke-ArgFault $_
        }

        It 'a handler on the alternate stack got the signal, and nothing crashed' {
            $out.Run.Oops | Should -BeNullOrEmpty
            $out.Run.TaskExited | Should -BeTrue
            $out.Run.ExitStatus | Should -Be 0 -Because 'the handler, not the signal, ended the task'
            $out.Signal | Should -BeIn $SIGSEGV, $SIGBUS, $SIGILL
        }

        It '[SKIP] Illegal instruction: the entry instruction itself is #UD here' -AllowNullOrEmptyForEach -ForEach @(if ($Ud) { @{ Refused = $true } }) {
            $out.Signal | Should -Be $SIGILL
            $out.Ip | Should -Be $out.EntryAt
        }

        It '[OK] Seems okay: SIGSEGV/SIGBUS with AX = -EFAULT or -ENOSYS, or SIGILL on the ud2 after a normal return' -AllowNullOrEmptyForEach -ForEach @(if (-not $Ud) { @{ Refused = $false } }) {
            if ($out.Signal -eq $SIGILL) {
                $out.Ip | Should -Be ($out.EntryAt + 2) -Because 'a SIGILL is only OK on the ud2 ("[OK] SYSCALL returned normally")'
            } else {
                $out.Signal | Should -BeIn $SIGSEGV, $SIGBUS
                $out.Ax | Should -BeIn (-$EFAULT), (-$ENOSYS)
            }
            # Which one, from the sources: the 64-bit build's SYSCALL runs nr -1 (-ENOSYS) and returns to the ud2; a fast
            # 32-bit entry fails the arg-6 fetch (-EFAULT) and returns by IRET to the vDSO landing pad, whose pops fault
            # on the broken stack; except linux-4.2's 32-bit SYSCALL, which returned to the instruction after SYSCALL
            # itself (the pre-rewrite SYSCALL vDSO image's layout), here the ud2.
            if ($Bitness -eq 64 -and $Insn -eq 'syscall') { $out.Signal | Should -Be $SIGILL; $out.Ax | Should -Be (-$ENOSYS) }
            elseif ($Kernel -eq 'linux-4.2' -and $Insn -eq 'syscall') { $out.Signal | Should -Be $SIGILL; $out.Ax | Should -Be (-$EFAULT) }
            else { $out.Signal | Should -Be $SIGSEGV; $out.Ax | Should -Be (-$EFAULT) }
        }

        It 'with TF set, the instructions before the entry each raised a SIGTRAP, handled on the alternate stack' -AllowNullOrEmptyForEach -ForEach @(if ($Tf) { @{ Stepped = $true } }) {
            # A trap after each of the eight moves at least (the selftest only warns when stuck on one instruction).
            $out.Traps | Should -BeGreaterOrEqual 8
        }
    }
}
