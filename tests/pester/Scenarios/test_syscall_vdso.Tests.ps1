# test_syscall_vdso (tools/testing/selftests/x86/test_syscall_vdso.c @ 0154ec71, Denys Vlasenko; 32-bit build only):
# a 6-argument pselect6 (308) with EFLAGS = 0x200ed7 ("set almost all flags") through AT_SYSINFO and then through an
# `int $0x80; ret` helper. ebx..ebp must come back unchanged ("[FAIL] arg#N clobbered" otherwise; a change in EFLAGS is
# only a [WARN] because of paravirt). On a 64-bit kernel (CS == 0x23) r8..r15, poisoned with 0x7f7f7f7f7f7f7f7f + i
# from 64-bit code, must be unchanged: a non-int80 entry may zero them and may load R11 with the flags ([NOTE]); for
# int $0x80 any change is a FAIL ("Starting in Linux 4.17 ... R8..11 are preserved"). Everything runs again under a
# PTRACE_SYSCALL tracer, which forces the slow paths.
#
# Here the registers are poisoned by writing the emulated CPU's r8..r15 directly (what call64_from_32(poison_regs64)
# leaves), and read back from the result's registers (what get_regs64 would store).
#
# Where a model legitimately differs:
# * int $0x80 on linux-4.2 and linux-4.4 (before 4.17) stored zeros for r8-r11 in pt_regs and IRET loads them: those
#   four come back 0 (the selftest, newer than 4.17, would FAIL there). r12-r15 are preserved on every kernel.
# * Fast entries: 6.x's CLEAR_REGS on the compat SYSRETL path leaves r12-r15 zeroed and SYSRETL loads R11 with the
#   flags; v4.x left r12-r15 alone. Both are within the selftest's "zero or unchanged; R11 may change" rule.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'ScenarioHelpers.ps1')
    $script:Cases = @(foreach ($c in Get-ScenarioMatrix -Bitness 32) {
            foreach ($via in 'Vdso', 'Int80') { foreach ($traced in $false, $true) { $c + @{ Via = $via; Traced = $traced } } }
        })
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../../SyscallTools.psd1') -Force
    . (Join-Path $PSScriptRoot 'ScenarioHelpers.ps1')
    $script:Poison = [ulong]0x7f7f7f7f7f7f7f7f
}

Describe 'test_syscall_vdso' {
    Context '[RUN] Executing 6-argument 32-bit syscall via <Via><(if ($Traced) { " (under ptrace)" })> (<Name>)' -ForEach $Cases {
        BeforeAll {
            $cpu = New-EmuCpu -Vendor $Vendor -Kernel $Kernel -KernelBits $KernelBits -Bitness 32
            $m = $cpu.Machine
            # prep_args(): nfds 42, rfds {0}, wfds {1}, efds {2}, timeout {0, 123 ns}, sigmask {SIGINT, SIGUSR2, SIGRTMAX}
            # and sigmask_desc {&sigmask, 8}.
            $d = $m.UserDataArea
            $nfds = $d; $rfds = $d + 0x100; $wfds = $d + 0x180; $efds = $d + 0x200; $timeout = $d + 0x280
            $sigmask = $d + 0x300; $desc = $d + 0x380
            $m.Memory.WriteUInt32($nfds, 42)
            $m.Memory.WriteUInt32($rfds, 1); $m.Memory.WriteUInt32($wfds, 2); $m.Memory.WriteUInt32($efds, 4)
            $m.Memory.WriteUInt32($timeout, 0); $m.Memory.WriteUInt32($timeout + 4, 123)
            $m.Memory.WriteUInt64($sigmask, ([ulong]1 -shl (2 - 1)) -bor ([ulong]1 -shl (12 - 1)) -bor ([ulong]1 -shl (64 - 1)))
            $m.Memory.WriteUInt32($desc, [uint32]$sigmask); $m.Memory.WriteUInt32($desc + 4, 8)
            # int80: int $0x80; ret
            $int80 = $m.UserText + 0x200
            $null = Write-UserCode $cpu $int80 'int 0x80', 'ret'
            $syscallAddr = if ($Via -eq 'Vdso') { $m.KernelVsyscall } else { $int80 }
            if ($Traced) {
                # ptrace_me(): a PTRACE_SYSCALL tracer that stops at every entry and exit and changes nothing.
                Set-PtRegs $cpu -At SyscallEntry -Persist -ScriptBlock { }
                Set-PtRegs $cpu -At SyscallExit -Persist -ScriptBlock { }
            }
            # call64_from_32(poison_regs64)
            for ($i = 0; $i -lt 8; $i++) { $m.Cpu[[SyscallTools.Core.Cpu.Gpr](8 + $i)] = $Poison + [ulong]$i }
            $run = $cpu | Invoke-EmuCode -Assembly @(
                'push ebp'
                'mov eax, 308'
                "mov ebx, [$nfds]"
                "mov ecx, $rfds"
                "mov edx, $wfds"
                "mov esi, $efds"
                "mov edi, $timeout"
                "mov ebp, $desc"
                'push 0x200ed7'
                'popfd'
                "call $syscallAddr"
                'pushfd'
                'pop eax'
                'cld'
                "cmp ebx, [$nfds]", 'mov ebx, 1', 'jne done'
                "cmp ecx, $rfds", 'mov ebx, 2', 'jne done'
                "cmp edx, $wfds", 'mov ebx, 3', 'jne done'
                "cmp esi, $efds", 'mov ebx, 4', 'jne done'
                "cmp edi, $timeout", 'mov ebx, 5', 'jne done'
                "cmp ebp, $desc", 'mov ebx, 6', 'jne done'
                'mov ebx, 0'
                'done:'
                'pop ebp')
        }

        It 'the call returned' {
            $run.Outcome | Should -Be 'ran to the end of the code'
            $run.Oops | Should -BeNullOrEmpty
            @($run.KernelEntries).Count | Should -Be 1
        }

        It '[OK] Arguments are preserved across syscall' {
            $run.After.Bx | Should -Be 0 -Because "[FAIL] arg#$($run.After.Bx) clobbered"
        }

        # "[NOTE] Not a 64-bit kernel, won't test R8..R15 leaks": only on 64-bit kernels.
        It '[OK] R8..R15 did not leak kernel data' -AllowNullOrEmptyForEach -ForEach @(if ($KernelBits -eq 64) { @{ Kernel64 = $true } }) {
            $after = $run.After
            $values = @($after.R8, $after.R9, $after.R10, $after.R11, $after.R12, $after.R13, $after.R14, $after.R15)
            for ($i = 0; $i -lt 8; $i++) {
                $n = 8 + $i
                $poisoned = $Poison + [ulong]$i
                if ($Via -eq 'Int80') {
                    if ($Kernel -ne 'linux-6.18' -and $n -le 11) {
                        $values[$i] | Should -Be 0 -Because "before 4.17 int `$0x80 zeroed R$n"
                    } else {
                        $values[$i] | Should -Be $poisoned -Because "[FAIL] R$n has changed"
                    }
                } elseif ($n -ne 11) {
                    $values[$i] | Should -BeIn @($poisoned, [ulong]0) -Because "[FAIL] R$n has changed (a fast entry may only zero it)"
                }
            }
        }
    }
}
