# syscall_arg_fault (tools/testing/selftests/x86/syscall_arg_fault.c @ 4b419325; both bitnesses): every GPR and ESP
# set to -1 with 32-bit moves, then SYSENTER, or `syscall; ud2`. The kernel cannot fetch the stack argument (arg 6 of
# a fast 32-bit entry, from (u32)regs->sp), returns -EFAULT, and the return to the broken user stack faults:
# "[OK] Seems okay" for SIGSEGV/SIGBUS with AX == -EFAULT or -ENOSYS. A SIGILL on the ud2 means SYSCALL returned
# normally (the 64-bit build: nr (int)0xffffffff = -1 gives -ENOSYS) and is OK too; a SIGILL on the entry instruction
# itself is "[SKIP] Illegal instruction" (SYSENTER on AMD in long mode, 32-bit SYSCALL on Intel or on a 32-bit kernel).
#
# Where the model differs: with ESP = -1 the selftest's handlers run on a sigaltstack, which the model does not have
# (SA_ONSTACK is ignored). So no handler is installed; the task is killed by the signal and AX is read from the
# registers it was killed with (pt_regs at delivery, the frame the handler would read). For the same reason the
# repetitions with TF set (a SIGTRAP handler on the altstack) and the 64-bit build's SYSENTER with a negative GSBASE
# (wrgsbase, which the model does not decode) are not run.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'ScenarioHelpers.ps1')
    # Which instructions the CPU refuses (#UD): SYSENTER on AMD in long mode; SYSCALL from 32-bit code on Intel, and on
    # a 32-bit kernel, which never sets EFER.SCE.
    $script:Cases = @(foreach ($c in Get-ScenarioMatrix) {
            foreach ($insn in 'sysenter', 'syscall') {
                $ud = if ($insn -eq 'sysenter') { $c.Vendor -eq 'AMD' -and $c.KernelBits -eq 64 }
                      else { $c.Bitness -eq 32 -and ($c.Vendor -eq 'Intel' -or $c.KernelBits -eq 32) }
                $c + @{ Insn = $insn; Ud = $ud }
            }
        })
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../../SyscallTools.psd1') -Force
    . (Join-Path $PSScriptRoot 'ScenarioHelpers.ps1')
    $script:EFAULT = 14; $script:ENOSYS = 38
}

Describe 'syscall_arg_fault' {
    Context '[RUN] <Insn> with invalid state (<Name>)' -ForEach $Cases {
        BeforeAll {
            $cpu = New-EmuCpu -Vendor $Vendor -Kernel $Kernel -KernelBits $KernelBits -Bitness $Bitness
            $regs = 'eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp', 'esp'
            $asm = @($regs | ForEach-Object { "mov $_, -1" }) + $Insn + 'ud2'
            $r = $cpu | Invoke-EmuCode -Assembly $asm -MaxInstructions 100000
            $entryAt = $cpu.Machine.UserCodeAddress + 8 * 5      # eight 5-byte moves, then the entry instruction
            $ax = ConvertTo-Int32 $r.After.Ax
        }

        It '[SKIP] Illegal instruction: the entry instruction itself is #UD here' -AllowNullOrEmptyForEach -ForEach @(if ($Ud) { @{ Refused = $true } }) {
            $r.Signal | Should -Be 'SIGILL'
            $r.After.Ip | Should -Be $entryAt
        }

        It '[OK] Seems okay: SIGSEGV/SIGBUS with AX = -EFAULT or -ENOSYS, or SIGILL on the ud2 after a normal return' -AllowNullOrEmptyForEach -ForEach @(if (-not $Ud) { @{ Refused = $false } }) {
            $r.Oops | Should -BeNullOrEmpty
            $r.TaskExited | Should -BeTrue
            if ($r.Signal -eq 'SIGILL') {
                $r.After.Ip | Should -Be ($entryAt + 2) -Because 'a SIGILL is only OK on the ud2 ("[OK] SYSCALL returned normally")'
            } else {
                $r.Signal | Should -BeIn 'SIGSEGV', 'SIGBUS'
                $ax | Should -BeIn (-$EFAULT), (-$ENOSYS)
            }
            # Which one, from the sources: the 64-bit build's SYSCALL runs nr -1 (-ENOSYS) and returns to the ud2; a fast
            # 32-bit entry fails the arg-6 fetch (-EFAULT) and returns by IRET to the vDSO landing pad, whose pops fault
            # on the broken stack; except linux-4.2's 32-bit SYSCALL, which returned to the instruction after SYSCALL
            # itself (the pre-rewrite SYSCALL vDSO image's layout), here the ud2.
            if ($Bitness -eq 64 -and $Insn -eq 'syscall') { $r.Signal | Should -Be 'SIGILL'; $ax | Should -Be (-$ENOSYS) }
            elseif ($Kernel -eq 'linux-4.2' -and $Insn -eq 'syscall') { $r.Signal | Should -Be 'SIGILL'; $ax | Should -Be (-$EFAULT) }
            else { $r.Signal | Should -Be 'SIGSEGV'; $ax | Should -Be (-$EFAULT) }
        }
    }
}
