BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../SyscallTools.psd1') -Force
}

Describe 'Get-EmuTrace' {
    It 'lists a traced system call: user code, the entry, the kernel, the exit' {
        $t = New-EmuCpu -Vendor Intel | Invoke-Syscall getpid -Trace | Get-EmuTrace
        $t[0] | Should -BeOfType ([SyscallTools.Core.Linux.TraceEvent])
        $t.Ring | Should -Contain 3
        $t.Ring | Should -Contain 0
        ($t | Where-Object Kind -eq 'insn' | Where-Object Text -eq 'sysenter') | Should -Not -BeNullOrEmpty
        ($t | Where-Object Kind -eq 'far').Text -join "`n" | Should -Match 'SYSENTER'
        ($t | Where-Object Kind -eq 'far').Text -join "`n" | Should -Match 'SYSRETL'
        $seq = $t.Sequence
        $seq | Should -Be ($seq | Sort-Object)
    }

    It 'filters by kind and ring' {
        $r = New-EmuCpu | Invoke-Syscall getpid -Trace
        $calls = $r | Get-EmuTrace -Kind call
        $calls.Kind | Sort-Object -Unique | Should -Be 'call'
        ($calls.Text -join ' ') | Should -Match 'do_fast_syscall_32|do_SYSENTER_32|do_syscall'
        (Get-EmuTrace $r -Ring 3).Ring | Sort-Object -Unique | Should -Be 3
    }

    It 'reads the trace of Invoke-EmuCode' {
        $t = New-EmuCpu | Invoke-EmuCode 'mov eax, 20', 'int 0x80' -Trace | Get-EmuTrace -Kind insn -Ring 3
        $t[0].Text | Should -Be 'mov eax, 0x14'
        $t[1].Text | Should -Be 'int 0x80'
    }

    It 'asks for -Trace when the result has none (SyscallTools.NoTrace)' {
        $err = $null
        New-EmuCpu | Invoke-Syscall getpid | Get-EmuTrace -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.NoTrace,*'
        $err[0].Exception.Message | Should -Match '-Trace'
    }

    It 'refuses other objects (SyscallTools.UnsupportedInput)' {
        $err = $null
        'text' | Get-EmuTrace -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.UnsupportedInput,*'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidType'
    }

    It 'declares its output type and shows a compact table' {
        (Get-Command Get-EmuTrace).OutputType.Type | Should -Be ([SyscallTools.Core.Linux.TraceEvent])
        (New-EmuCpu | Invoke-Syscall getpid -Trace | Get-EmuTrace | Select-Object -First 1 | Out-String) | Should -Match '1\s+3\s+8050000'
    }
}
