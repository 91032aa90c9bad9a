BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../SyscallTools.psd1') -Force
}

Describe 'Test-VdsoUnwind' {
    It 'passes at every step for <Kernel> on <Vendor> with a <Bits>-bit kernel' -ForEach @(
        foreach ($k in 'linux-4.2', 'linux-4.4', 'linux-6.18', 'linux-6.18-unsafe-sysret') {
            foreach ($v in 'Intel', 'AMD') { foreach ($b in 64, 32) { @{ Kernel = $k; Vendor = $v; Bits = $b } } }
        }
    ) {
        $rows = @(New-EmuCpu $Vendor $Kernel -KernelBits $Bits | Test-VdsoUnwind -ArgumentList 1, 2, 3, 4, 5, 6)
        $rows.Count | Should -BeGreaterThan 2
        $rows | Where-Object { -not $_.Passed } | Should -BeNullOrEmpty
        $rows[0].Symbol | Should -Be '[vdso] __kernel_vsyscall'
        $rows[-1].Disassembly | Should -Be 'ret'
        $rows[-1].Ebx | Should -Be 1
        $rows[-1].Ebp | Should -Be 6
        $rows[0].ReturnAddress | Should -Be $rows[0].ExpectedReturnAddress
    }

    It 'shows the unified image''s rows: the CFA grows by 4 per push and the landing pad is unwound too' {
        $rows = @(New-EmuCpu Intel | Test-VdsoUnwind)
        $rows.Disassembly | Should -Be @('push ecx', 'push edx', 'push ebp', 'mov ebp, esp', 'sysenter', 'pop ebp', 'pop edx', 'pop ecx', 'ret')
        $rows[3].Cfi | Should -Match 'CFA=esp\+16 ecx=c-8 edx=c-12 ebp=c-16'
        $rows[4].KernelInstructions | Should -BeGreaterThan 0
        $rows[5].Symbol | Should -Be '[vdso] int80_landing_pad'
    }

    It 'fails at exactly the step a broken DW_CFA_def_cfa_offset covers' {
        $c = New-EmuCpu AMD
        $m = $c.Machine
        $m.ReplaceVdso([SyscallTools.Core.Linux.Vdso.VdsoBuilder]::Build($m.Model, $m.KernelBits, $m.Features, 1))
        $failed = @(Test-VdsoUnwind $c | Where-Object { -not $_.Passed })
        $failed.Count | Should -Be 1
        $failed[0].Disassembly | Should -Be 'push ebp'
        $failed[0].Mismatch | Should -Match 'CFA'
    }

    It 'refuses a machine without a 32-bit vDSO with SyscallTools.InvalidCombination' {
        $err = $null
        New-EmuCpu -NoVdso | Test-VdsoUnwind -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.InvalidCombination,*'
        New-EmuCpu -Bitness 64 | Test-VdsoUnwind -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.InvalidCombination,*'
    }

    It 'reports an image whose .eh_frame is corrupt with SyscallTools.InvalidVdsoImage, not an exception' {
        $b = [IO.File]::ReadAllBytes((Join-Path $PSScriptRoot '../SyscallTools.Core.Tests/Elf/Images/host-vdso32.so'))
        $b[0x4cc + 0x18 + 4] = $b[0x4cc + 0x18 + 4] -bxor 0x55      # the first FDE's CIE pointer
        $p = Join-Path $TestDrive 'bad-cfi.so'
        [IO.File]::WriteAllBytes($p, $b)
        $c = New-EmuCpu Intel
        Import-EmuVdso -Cpu $c $p                                    # the code is fine; only the unwind information is not
        $err = $null
        $rows = Test-VdsoUnwind $c -ErrorVariable err -ErrorAction SilentlyContinue
        $rows | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.InvalidVdsoImage,*'
        $err[0].Exception.Message | Should -Match 'CIE'
    }

    It 'names an unknown system call with SyscallTools.UnknownSyscall' {
        $err = $null
        New-EmuCpu | Test-VdsoUnwind -Name nosuchcall -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.UnknownSyscall,*'
    }

    It 'reports a task that has exited with SyscallTools.TaskExited' {
        $c = New-EmuCpu
        $null = $c | Invoke-Syscall exit -ArgumentList 0
        $err = $null
        Test-VdsoUnwind $c -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.TaskExited,*'
    }

    It 'binds -Cpu by property name' {
        $c = New-EmuCpu
        @([pscustomobject]@{ Cpu = $c } | Test-VdsoUnwind).Count | Should -Be 9
    }
}
