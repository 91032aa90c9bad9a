# syscall_nt (tools/testing/selftests/x86/syscall_nt.c @ 12db1490; both bitnesses): "Some obscure user-space code
# requires the ability to make system calls with FLAGS.NT set." do_it(extraflags) sets the flags with pushf/popf,
# calls syscall(SYS_getpid) (libc: __kernel_vsyscall in the 32-bit build, SYSCALL in the 64-bit one) and asserts
# (flags & extraflags) == extraflags afterwards: "[OK] The syscall worked and flags are still set". Then again with
# NT|TF and an empty SIGTRAP handler, because "TF forces returns via IRET in all cases except non-ptregs-using 64-bit
# full fast path syscalls".
#
# Where a model legitimately differs:
# * linux-4.2 and linux-4.4 on a 32-bit kernel: the SYSEXIT exit returned the kernel's live EFLAGS, not
#   pt_regs->flags ("x86/entry/32: Restore FLAGS on SYSEXIT" came later, ~4.6; kernel-semantics.md 2f), so NT is lost
#   there. With TF the exit is IRET, which restores NT from pt_regs.
# * linux-4.2 on a 32-bit kernel with NT|TF: the #DB taken on the first instructions of entry_SYSENTER_32 goes through
#   do_debug()'s "set TIF_SINGLESTEP; regs->flags &= ~TF", the entry work puts TF back, and the call leaves by IRET with
#   both flags, as the real 4.2 does. (This was once a model gap and a skip; see
#   PtraceRegressionTests.Linux42SingleSteppedSysenterPutsTfBackInsteadOfOopsing.)
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'ScenarioHelpers.ps1')
    $script:Cases = @(Get-ScenarioMatrix)
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../../SyscallTools.psd1') -Force
    . (Join-Path $PSScriptRoot 'ScenarioHelpers.ps1')

    # do_it(extraflags): set the flags, syscall(SYS_getpid), read the flags back into bx (and the return into si);
    # then clear TF again so the run ends quietly.
    function Invoke-DoIt($Cpu, [int] $Bitness, [ulong] $Extra) {
        $asm = if ($Bitness -eq 64) {
            'pushfq', "or qword ptr [rsp], $Extra", 'popfq',
            'mov eax, 39', 'syscall',
            'mov rsi, rax', 'pushfq', 'pop rbx',
            'pushfq', 'and qword ptr [rsp], -257', 'popfq'
        } else {
            'pushfd', "or dword ptr [esp], $Extra", 'popfd',
            'mov eax, 20', "call $($Cpu.Vdso.KernelVsyscall)",
            'mov esi, eax', 'pushfd', 'pop ebx',
            'pushfd', 'and dword ptr [esp], -257', 'popfd'
        }
        $Cpu | Invoke-EmuCode -Assembly $asm -MaxInstructions 200000
    }
}

Describe 'syscall_nt' {
    Context '<Name>' -ForEach $Cases {
        BeforeAll {
            $sysexitLosesFlags = $KernelBits -eq 32 -and $Kernel -in 'linux-4.2', 'linux-4.4'
        }

        It '[RUN] Set NT and issue a syscall: [OK] The syscall worked and flags are still set' {
            $cpu = New-EmuCpu -Vendor $Vendor -Kernel $Kernel -KernelBits $KernelBits -Bitness $Bitness
            $r = Invoke-DoIt $cpu $Bitness $NT
            $r.Outcome | Should -Be 'ran to the end of the code'
            $r.Oops | Should -BeNullOrEmpty
            $r.After.Si | Should -Be $TaskPid -Because 'the syscall worked'
            if ($sysexitLosesFlags) {
                # pre-4.6 native SYSEXIT: the user gets the kernel's live flags, in which the entry cleared NT.
                $r.LastExitInstruction | Should -Be 'SYSEXIT'
                ($r.After.Bx -band $NT) | Should -Be 0
            } else {
                ($r.After.Bx -band $NT) | Should -Be $NT
            }
        }

        It '[RUN] Set NT|TF and issue a syscall: [OK] The syscall worked and flags are still set' {
            $cpu = New-EmuCpu -Vendor $Vendor -Kernel $Kernel -KernelBits $KernelBits -Bitness $Bitness
            $handler = $cpu.Machine.UserText + 0x100
            $null = Write-UserCode $cpu $handler 'ret'            # static void sigtrap(...) { }
            Set-SignalHandler $cpu $SIGTRAP $handler $SA_SIGINFO
            $r = Invoke-DoIt $cpu $Bitness ($NT -bor $TF)
            $r.Outcome | Should -Be 'ran to the end of the code'
            $r.Oops | Should -BeNullOrEmpty
            $r.After.Si | Should -Be $TaskPid -Because 'the syscall worked'
            ($r.After.Bx -band ($NT -bor $TF)) | Should -Be ($NT -bor $TF)
            # TF really single-stepped: SIGTRAPs were delivered, each handler returning through sigreturn.
            @($r.KernelEntries | Where-Object Signal -eq $SIGTRAP).Count | Should -BeGreaterThan 0
        }
    }
}
