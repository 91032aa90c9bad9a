# Set-PtRegs: a tracer's edits at syscall stops, with the kernel's putreg rules, and what they do to the exit path.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../SyscallTools.psd1') -Force
}

Describe 'Set-PtRegs' {
    It 'moving ip at the exit stop turns SYSRETL into IRET and names the failing check' {
        $cpu = New-EmuCpu -Vendor AMD
        Set-PtRegs $cpu -At SyscallExit -Ip ($cpu.Vdso.LandingPad + 1)
        $r = $cpu | Invoke-Syscall getpid -Via Vdso
        $r.ExitInstruction | Should -Be 'IRET'
        $path = $r | Get-ExitPath
        ($path.Checks | Where-Object { -not $_.Passed } | Select-Object -First 1).Name | Should -Be 'regs->ip == landing pad'
    }

    It 'an unedited call on the same machine exits fast again (the tracer detached)' {
        $cpu = New-EmuCpu -Vendor AMD
        Set-PtRegs $cpu -At SyscallExit -Ax 7
        ($cpu | Invoke-Syscall getpid).Return | Should -Be 7
        $again = $cpu | Invoke-Syscall getpid
        $again.Return | Should -Be 4242
        $again.ExitInstruction | Should -Be 'SYSRETL'
        $cpu.PendingEdits | Should -HaveCount 0
    }

    It 'orig_ax written at the entry stop changes the call (getpid becomes getppid)' {
        $cpu = New-EmuCpu -Vendor Intel
        Set-PtRegs $cpu -At SyscallEntry -OrigAx 64
        ($cpu | Invoke-Syscall getpid).Return | Should -Be 1
    }

    It '-Persist applies at every stop and -Register takes pt_regs names' {
        $cpu = New-EmuCpu -Vendor AMD -Bitness 64
        Set-PtRegs $cpu -At SyscallExit -Register @{ ax = 99 } -Persist
        ($cpu | Invoke-Syscall getpid).Return | Should -Be 99
        ($cpu | Invoke-Syscall getppid).Return | Should -Be 99
        $cpu.PendingEdits[0].Applied | Should -Be 2
    }

    It 'the scriptblock receives the stop and may set TF, which forces IRET' {
        $cpu = New-EmuCpu -Vendor AMD -Bitness 64
        Set-PtRegs $cpu -At SyscallExit -ScriptBlock { $_.Poke('flags', $_.Peek('flags') -bor 0x100) }
        $r = $cpu | Invoke-Syscall getpid -MaxInstructions 10000
        $r.ExitInstruction | Should -Be 'IRET'
        ($r.After.Flags -band 0x100) | Should -Not -Be 0
    }

    It 'flags are masked to the user-changeable set' {
        $cpu = New-EmuCpu -Vendor AMD
        Set-PtRegs $cpu -At SyscallExit -Flags 0xffffffff
        $null = $cpu | Invoke-Syscall getpid -Via Int80 -MaxInstructions 10000
        $regs = Get-PtRegs $cpu
        ($regs.flags -band 0x3000) | Should -Be 0     # IOPL stays 0
        ($regs.flags -band 0x200) | Should -Be 0x200  # IF stays set
    }

    It '-WhatIf queues nothing' {
        $cpu = New-EmuCpu
        Set-PtRegs $cpu -At SyscallExit -Ax 1 -WhatIf
        $cpu.PendingEdits | Should -HaveCount 0
        ($cpu | Invoke-Syscall getpid).Return | Should -Be 4242
    }

    It 'binds -Cpu from the pipeline and -PassThru writes the edit' {
        $edit = New-EmuCpu | Set-PtRegs -At SyscallEntry -OrigAx 20 -PassThru
        $edit | Should -BeOfType ([SyscallTools.PtRegsEdit])
        $edit.Registers['orig_ax'] | Should -Be 20
    }

    It 'a selector putreg refuses is SyscallTools.RejectedRegisterWrite' {
        $cpu = New-EmuCpu
        $err = $null
        Set-PtRegs $cpu -At SyscallExit -Cs 0x10 -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.RejectedRegisterWrite,*'
        $err[0].Exception.Message | Should -Match 'RPL 3'
        $cpu.PendingEdits | Should -HaveCount 0
    }

    It 'a register the tracee does not have is SyscallTools.UnknownRegister' {
        $cpu = New-EmuCpu -Bitness 32
        $err = $null
        Set-PtRegs $cpu -At SyscallExit -R8 1 -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.UnknownRegister,*'
    }

    It 'a value too wide for a 32-bit tracee is SyscallTools.InvalidRegisterValue' {
        $cpu = New-EmuCpu -Bitness 32
        $err = $null
        Set-PtRegs $cpu -At SyscallExit -Ip 0x100000000 -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.InvalidRegisterValue,*'
    }

    It 'nothing to write is SyscallTools.InvalidCombination' {
        $err = $null
        New-EmuCpu | Set-PtRegs -At SyscallExit -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.InvalidCombination,*'
    }

    It 'an exited task is SyscallTools.TaskExited' {
        $cpu = New-EmuCpu -Bitness 64
        $null = $cpu | Invoke-Syscall exit_group -ArgumentList 0
        $err = $null
        Set-PtRegs $cpu -At SyscallExit -Ax 1 -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.TaskExited,*'
    }

    It 'declares its output type' {
        (Get-Command Set-PtRegs).OutputType.Type | Should -Be ([SyscallTools.PtRegsEdit])
    }
}
