BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../SyscallTools.psd1') -Force
}

Describe 'Invoke-EmuCode' {
    It 'assembles and runs getpid through int $0x80' {
        $r = New-EmuCpu | Invoke-EmuCode -Assembly 'mov eax, 20', 'int 0x80'
        $r | Should -BeOfType ([SyscallTools.Core.Linux.UserRunResult])
        $r.After.Ax | Should -Be 4242
        $r.KernelEntries.Count | Should -Be 1
        $r.Outcome | Should -Be 'ran to the end of the code'
    }

    It 'runs raw bytes' {
        # B8 14 00 00 00 = mov eax, 20; CD 80 = int $0x80
        $r = New-EmuCpu | Invoke-EmuCode -Bytes 0xB8, 0x14, 0, 0, 0, 0xCD, 0x80
        $r.After.Ax | Should -Be 4242
    }

    It 'calls __kernel_vsyscall by its address, in a loop with a label' {
        $c = New-EmuCpu -Vendor Intel
        $r = $c | Invoke-EmuCode -Assembly @(
            'mov esi, 3'
            'again:'
            '  mov eax, 20'
            "  call $($c.Vdso.KernelVsyscall)"
            '  dec esi'
            '  jnz again')
        $r.KernelEntries.Count | Should -Be 3
        $r.After.Ax | Should -Be 4242
        $r.LastExitInstruction | Should -Be 'SYSRETL'
    }

    It 'writes to stdout' {
        # "Hi\n" pushed as a dword, then write(1, esp, 3).
        $r = New-EmuCpu | Invoke-EmuCode 'push 0x0a6948', 'mov ecx, esp', 'mov ebx, 1', 'mov edx, 3', 'mov eax, 4', 'int 0x80'
        $r.Stdout | Should -Be "Hi`n"
    }

    It 'assembles for a 64-bit task' {
        $r = New-EmuCpu -Bitness 64 | Invoke-EmuCode 'mov eax, 39', 'syscall'
        $r.After.Ax | Should -Be 4242
        $r.LastExitInstruction | Should -Be 'SYSRETQ'
    }

    It 'reports exit and refuses to run an exited task (SyscallTools.TaskExited)' {
        $c = New-EmuCpu
        $r = $c | Invoke-EmuCode 'mov ebx, 7', 'mov eax, 1', 'int 0x80'
        $r.TaskExited | Should -BeTrue
        $r.ExitStatus | Should -Be 7
        $err = $null
        $c | Invoke-EmuCode 'nop' -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.TaskExited,*'
    }

    It 'reports assembly errors as SyscallTools.InvalidAssembly with the line' {
        $err = $null
        New-EmuCpu | Invoke-EmuCode 'nop', 'mov eax,' -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.InvalidAssembly,*'
        $err[0].CategoryInfo.Category | Should -Be 'ParserError'
        $err[0].Exception.Message | Should -Match 'line 2'
        New-EmuCpu | Invoke-EmuCode 'mov rax, 1' -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].Exception.Message | Should -Match 'only in 64-bit code'
    }

    It 'refuses code larger than the code area' {
        $err = $null
        New-EmuCpu | Invoke-EmuCode -Bytes ([byte[]]::new(0x7001)) -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.InvalidAssembly,*'
    }

    It 'supports -WhatIf: nothing runs' {
        $c = New-EmuCpu
        $c | Invoke-EmuCode 'mov eax, 1', 'int 0x80' -WhatIf | Should -BeNullOrEmpty
        $c.TaskExited | Should -BeFalse
    }

    It 'stops at -MaxInstructions' {
        $r = New-EmuCpu | Invoke-EmuCode 'top: jmp top' -MaxInstructions 100
        $r.Outcome | Should -Not -Be 'ran to the end of the code'
        $r.UserInstructions | Should -BeLessOrEqual 100
    }

    It 'declares its output type' {
        (Get-Command Invoke-EmuCode).OutputType.Type | Should -Be ([SyscallTools.Core.Linux.UserRunResult])
    }
}
