BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../SyscallTools.psd1') -Force
}

Describe 'Get-PtRegs' {
    It 'reads a 64-bit kernel''s pt_regs as getpid through the vDSO left it' {
        $c = New-EmuCpu
        $null = $c | Invoke-Syscall getpid
        $p = Get-PtRegs $c
        $p | Should -BeOfType ([SyscallTools.PtRegs64Frame])
        $p.orig_ax | Should -Be 20         # the syscall number, saved at entry
        $p.ax | Should -Be 4242            # the return value, written before the exit
        $p.ip | Should -Be $c.Vdso.LandingPad
        $p.cs | Should -Be 0x23            # __USER32_CS
        $p.ss | Should -Be 0x2b            # __USER_DS
    }

    It 'reads a 32-bit kernel''s pt_regs with its segment fields' {
        $c = New-EmuCpu -Vendor Intel -KernelBits 32
        $null = $c | Invoke-Syscall getpid
        $p = $c | Get-PtRegs
        $p | Should -BeOfType ([SyscallTools.PtRegs32Frame])
        $p.orig_ax | Should -Be 20
        $p.cs | Should -Be 0x73            # __USER_CS of a 32-bit kernel
        $p.ss | Should -Be 0x7b
        $p.ds | Should -Be 0x7b
        $p.ip | Should -Be $c.Vdso.LandingPad
    }

    It 'lists the fields in struct order with the kernel''s offsets and groups' {
        $f = (New-EmuCpu | Get-PtRegs -WarningAction SilentlyContinue).Fields
        $f[0].Name | Should -Be 'r15'
        $f[0].Group | Should -Be 'callee-preserved'
        ($f | Where-Object Name -eq 'orig_ax').Offset | Should -Be 0x78
        ($f | Where-Object Name -eq 'ss').Offset | Should -Be 0xa0
        $f.Count | Should -Be 21
        (New-EmuCpu -KernelBits 32 | Get-PtRegs -WarningAction SilentlyContinue).Fields.Count | Should -Be 17
    }

    It 'warns before any system call' {
        $w = $null
        $null = New-EmuCpu | Get-PtRegs -WarningVariable w -WarningAction SilentlyContinue
        $w | Should -Not -BeNullOrEmpty
    }

    It 'binds -Cpu by property name' {
        $c = New-EmuCpu
        ([pscustomobject]@{ Cpu = $c } | Get-PtRegs -WarningAction SilentlyContinue) | Should -BeOfType ([SyscallTools.PtRegs64Frame])
    }

    It 'shows the fields grouped like struct pt_regs' {
        $c = New-EmuCpu
        $null = $c | Invoke-Syscall getpid
        $text = Get-PtRegs $c | Out-String
        $text | Should -Match '/\* callee-preserved \*/'
        $text | Should -Match '/\* hardware return frame \*/'
        $text | Should -Match 'orig_ax\s+= 0x0000000000000014'
        $text32 = New-EmuCpu -KernelBits 32 | Get-PtRegs -WarningAction SilentlyContinue | Out-String
        $text32 | Should -Match '/\* segments \*/'
    }

    It 'completes register names' {
        $c = [SyscallTools.Completion.RegisterNameCompleter]::new()
        @($c.CompleteArgument('x', 'Register', 'orig', $null, @{})).CompletionText | Should -Be 'orig_ax'
        @($c.CompleteArgument('x', 'Register', 'r1', $null, @{ Cpu = (New-EmuCpu -KernelBits 32) })).Count | Should -Be 0
        @($c.CompleteArgument('x', 'Register', 'r1', $null, @{ Cpu = (New-EmuCpu) })).CompletionText | Should -Contain 'r11'
    }

    It 'declares its output types' {
        (Get-Command Get-PtRegs).OutputType.Type | Should -Be @([SyscallTools.PtRegs64Frame], [SyscallTools.PtRegs32Frame])
    }
}
