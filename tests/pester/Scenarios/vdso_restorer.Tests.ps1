# vdso_restorer (tools/testing/selftests/x86/vdso_restorer.c; 32-bit build only): "sa_restorer == NULL keeps working on
# 32-bit configurations". rt_sigaction(SIGUSR1, {handler_with_siginfo, SA_SIGINFO, restorer NULL}, NULL, 8), raise:
# "[OK] SA_SIGINFO handler returned successfully"; then the old sigaction(SIGUSR1, {handler_without_siginfo, 0, NULL}),
# raise: "[OK] !SA_SIGINFO handler returned successfully". With no SA_RESTORER the kernel points the frame's return
# address at the vDSO's __kernel_rt_sigreturn / __kernel_sigreturn.
#
# Here the handler sets a flag, raise() is kill(getpid(), SIGUSR1) through the vDSO, and "returned successfully" means
# the code after the raise ran with the flag set. As in the selftest, the SA_SIGINFO handler is installed with the raw
# rt_sigaction (struct real_sigaction {handler, flags, restorer, mask}) and the !SA_SIGINFO one with the old sigaction
# (67, struct old_sigaction {handler, mask, flags, restorer}).
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'ScenarioHelpers.ps1')
    $script:Cases = @(foreach ($c in Get-ScenarioMatrix -Bitness 32) {
            $c + @{ Flags = 4; What = 'SA_SIGINFO'; Restorer = '__kernel_rt_sigreturn' }
            $c + @{ Flags = 0; What = '!SA_SIGINFO'; Restorer = '__kernel_sigreturn' }
        })
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../../SyscallTools.psd1') -Force
    . (Join-Path $PSScriptRoot 'ScenarioHelpers.ps1')
}

Describe 'vdso_restorer' {
    Context '<What> handler with sa_restorer = NULL (<Name>)' -ForEach $Cases {
        BeforeAll {
            $cpu = New-EmuCpu -Vendor $Vendor -Kernel $Kernel -KernelBits $KernelBits -Bitness 32
            $m = $cpu.Machine
            $called = $m.UserDataArea + 0x100
            $handler = $m.UserText + 0x100
            $null = Write-UserCode $cpu $handler "mov dword ptr [$called], 1", 'ret'
            $sa = $m.UserDataArea + 0x200
            if ($Flags -band $SA_SIGINFO) {
                # struct real_sigaction { handler, flags, restorer = NULL, mask[2] = 0 }, then the raw rt_sigaction.
                $m.Memory.WriteUInt32($sa, [uint32]$handler); $m.Memory.WriteUInt32($sa + 4, $Flags)
                $m.Memory.WriteUInt32($sa + 8, 0); $m.Memory.WriteUInt64($sa + 12, 0)
                $install = $cpu | Invoke-Syscall rt_sigaction -ArgumentList $SIGUSR1, $sa, 0, 8
            } else {
                # struct old_sigaction { handler, mask = 0, flags = 0, restorer = NULL }, then sigaction(SIGUSR1, &sa, 0).
                $m.Memory.WriteUInt32($sa, [uint32]$handler); $m.Memory.WriteUInt32($sa + 4, 0)
                $m.Memory.WriteUInt32($sa + 8, $Flags); $m.Memory.WriteUInt32($sa + 12, 0)
                $install = $cpu | Invoke-Syscall sigaction -ArgumentList $SIGUSR1, $sa, 0
            }
            $raise = $cpu | Invoke-Syscall kill -ArgumentList $TaskPid, $SIGUSR1 -Trace
        }

        It 'the raw <(if ($Flags) { "rt_sigaction" } else { "sigaction" })> call succeeds with restorer NULL' {
            $install.Return | Should -Be 0
            $m.SignalState.Actions[$SIGUSR1].Restorer | Should -Be 0
        }

        It '[OK] <What> handler returned successfully' {
            $m.Memory.ReadUInt32($called) | Should -Be 1 -Because 'the handler was called'
            $raise.Completed | Should -BeTrue -Because $raise.Outcome
            $raise.Return | Should -Be 0
            $raise.Oops | Should -BeNullOrEmpty
        }

        It 'the handler returned into the vDSO''s <Restorer>' {
            $target = $cpu.Vdso.Base + [ulong]$m.Vdso.Symbols[$Restorer]
            @($raise | Get-EmuTrace -Kind insn -Ring 3 | Where-Object Address -eq $target).Count | Should -Be 1
        }
    }
}
