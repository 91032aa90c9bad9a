BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../SyscallTools.psd1') -Force
}

Describe 'Get-ExitPath' {
    Context 'from a result' {
        It 'gives the decision behind a fast exit, every check passed' {
            $d = New-EmuCpu | Invoke-Syscall getpid | Get-ExitPath
            $d | Should -BeOfType ([SyscallTools.Core.Linux.Models.ExitDecision])
            $d.Instruction | Should -Be 'SYSRETL'
            $d.Model | Should -Be 'linux-6.18'
            $d.Checks.Count | Should -BeGreaterThan 3
            $d.Checks.Passed | Should -Not -Contain $false
            $d.Checks.Name | Should -Contain 'regs->ip == landing pad'
        }

        It 'says why int $0x80 leaves with IRET' {
            $d = Get-ExitPath (New-EmuCpu | Invoke-Syscall getpid -Via Int80)
            $d.Instruction | Should -Be 'IRET'
            $d.Reason | Should -Match 'int \$0x80 always returns with IRET'
        }

        It 'reports a call that never entered the kernel as SyscallTools.NoExitPath' {
            $r = New-EmuCpu -Vendor AMD | Invoke-Syscall getpid -Via Sysenter
            $err = $null
            $r | Get-ExitPath -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.NoExitPath,*'
            $err[0].Exception.Message | Should -Match 'SIGILL'
        }
    }

    Context 'what-if' {
        It 'a fast 32-bit exit becomes IRET when ip leaves the landing pad' {
            $c = New-EmuCpu
            $null = $c | Invoke-Syscall getpid
            (Get-ExitPath -Cpu $c -Entry Fast32).Instruction | Should -Be 'SYSRETL'
            $d = Get-ExitPath -Cpu $c -Entry Fast32 -Ip 0x08048000
            $d.Instruction | Should -Be 'IRET'
            $d.Reason | Should -Match 'regs->ip == landing pad failed'
            ($d.Checks | Where-Object { -not $_.Passed }).Actual | Should -Be '0x8048000'
        }

        It 'TF or RF in flags forces IRET (<Flags>)' -ForEach @(@{ Flags = 0x302 }, @{ Flags = 0x10202 }) {
            $c = New-EmuCpu -Vendor Intel
            $null = $c | Invoke-Syscall getpid
            (Get-ExitPath -Cpu $c -Entry Fast32 -Flags $Flags).Instruction | Should -Be 'IRET'
        }

        It 'a 32-bit kernel''s fast exit is SYSEXIT' {
            $c = New-EmuCpu -Vendor Intel -KernelBits 32
            $null = $c | Invoke-Syscall getpid
            (Get-ExitPath -Cpu $c -Entry Fast32).Instruction | Should -Be 'SYSEXIT'
        }

        It 'SYSRETQ needs rcx == rip and a user-half address on linux-6.18' {
            $c = New-EmuCpu -Bitness 64
            $null = $c | Invoke-Syscall getpid
            (Get-ExitPath -Cpu $c -Entry Syscall64).Instruction | Should -Be 'SYSRETQ'
            (Get-ExitPath -Cpu $c -Entry Syscall64 -Cx 0x1234).Instruction | Should -Be 'IRET'
            # 0x800000000000 is the first non-canonical address with 4-level paging.
            $d = Get-ExitPath -Cpu $c -Entry Syscall64 -Ip 0x800000000000 -Cx 0x800000000000
            $d.Instruction | Should -Be 'IRET'
            $d.Reason | Should -Match 'TASK_SIZE_MAX'
        }

        It 'takes kernel-half addresses as typed (negative Int64 literals and strings)' {
            $c = New-EmuCpu -Bitness 64
            $d = Get-ExitPath -Cpu $c -Entry Syscall64 -Ip 0xffffffff81000000 -Cx '0xffffffff81000000'
            $d.Instruction | Should -Be 'IRET'
            ($d.Checks | Where-Object Name -like '*TASK_SIZE_MAX*').Actual | Should -Be '0xffffffff81000000'
        }

        It 'int $0x80 is IRET whatever pt_regs says' {
            (New-EmuCpu | Get-ExitPath -Entry Int80).Instruction | Should -Be 'IRET'
        }

        It 'starts from user defaults before any system call' {
            $c = New-EmuCpu
            (Get-ExitPath -Cpu $c -Entry Fast32).Instruction | Should -Be 'SYSRETL'
            (Get-ExitPath -Cpu (New-EmuCpu -Bitness 64) -Entry Syscall64).Instruction | Should -Be 'SYSRETQ'
        }

        It 'changes nothing on the kernel stack' {
            $c = New-EmuCpu
            $null = $c | Invoke-Syscall getpid
            $before = (Get-PtRegs $c).Fields.Value
            $null = Get-ExitPath -Cpu $c -Entry Fast32 -Ip 0x1234 -Flags 0x302 -Cs 0x33 -Ss 0 -Sp 0 -Cx 5 -R11 6
            (Get-PtRegs $c).Fields.Value | Should -Be $before
        }

        It 'binds -Cpu from the pipeline' {
            (New-EmuCpu | Get-ExitPath -Entry Fast32 -Ip 1).Instruction | Should -Be 'IRET'
        }

        It 'reports SyscallTools.InvalidCombination, UnknownRegister and InvalidRegisterValue on a 32-bit kernel' {
            $c = New-EmuCpu -KernelBits 32
            $err = $null
            Get-ExitPath -Cpu $c -Entry Syscall64 -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.InvalidCombination,*'
            Get-ExitPath -Cpu $c -Entry Fast32 -R11 0x202 -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.UnknownRegister,*'
            $err[0].Exception.Message | Should -Match 'no r11'
            Get-ExitPath -Cpu $c -Entry Fast32 -Ip 0x100000000 -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.InvalidRegisterValue,*'
            $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        }

        It 'refuses a value that is not a number' {
            { Get-ExitPath -Cpu (New-EmuCpu) -Entry Fast32 -Ip 'landing' } | Should -Throw -ErrorId 'ParameterArgumentTransformationError,SyscallTools.Commands.GetExitPathCommand'
        }
    }

    It 'declares its output type and shows the decision and the checks as tables' {
        (Get-Command Get-ExitPath).OutputType.Type | Should -Be ([SyscallTools.Core.Linux.Models.ExitDecision])
        $d = New-EmuCpu | Invoke-Syscall getpid -Via Int80 | Get-ExitPath
        ($d | Out-String) | Should -Match 'IRET\s+linux-6\.18'
        ($d.Checks | Out-String) | Should -Match 'FAIL'
    }
}
