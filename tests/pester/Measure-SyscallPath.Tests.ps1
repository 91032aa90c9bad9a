BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../SyscallTools.psd1') -Force
}

Describe 'Measure-SyscallPath' {
    It 'splits a round trip into user, entry, C and exit, and the parts add up' {
        $e = New-EmuCpu -Vendor Intel -Kernel linux-4.4 | Measure-SyscallPath
        $e.Scenario | Should -Be 'getpid'
        $e.ExitInstruction | Should -Be 'SYSRETL'
        # Hand-counted from the listing (CostModelTests has the line-by-line count): the exit is swapgs and SYSRETL after
        # the nine loads from pt_regs, the C side do_fast_syscall_32, getpid, the slow-exit check and five exit tests.
        @($e.Lines | Where-Object { $_.Phase -eq 'Exit' -and $_.Key -eq 'sysret' }).Count | Should -Be 1
        ($e.Lines | Where-Object { $_.Phase -eq 'C' -and $_.Key -eq 'c:exit-check' }).Count | Should -Be 5
        ($e.Lines | Where-Object { $_.Phase -eq 'Exit' -and $_.Key -eq 'class:memory' }).Count | Should -Be 9
        $e.Lines | ForEach-Object { $_.Source | Should -Not -BeNullOrEmpty }
        # The entry is priced with SYSENTER on Intel: the vDSO's alternative for a 64-bit kernel.
        @($e.Lines | Where-Object { $_.Phase -eq 'Entry' -and $_.Key -eq 'sysenter' }).Count | Should -Be 1
    }

    It 'runs the scenario on each -Kernel and shows the rewrite''s calibrated +18 cycles' {
        $r = New-EmuCpu -Vendor Intel | Measure-SyscallPath -Kernel linux-4.2, linux-4.4
        @($r.Kernel) | Should -Be @('linux-4.2', 'linux-4.4')
        ($r[1].Cycles - $r[0].Cycles) | Should -BeGreaterOrEqual 17
        ($r[1].Cycles - $r[0].Cycles) | Should -BeLessOrEqual 19
    }

    It 'prices a traced Invoke-Syscall result from the pipeline' {
        $e = New-EmuCpu -Vendor AMD | Invoke-Syscall getpid -Trace | Measure-SyscallPath
        $e.Scenario | Should -Be 'getpid via Vdso'
        $e.KernelBits | Should -Be 64
        # The same path as the getpid scenario, reached from Invoke-Syscall's own call site: the kernel's share matches.
        $scenario = New-EmuCpu -Vendor AMD | Measure-SyscallPath
        $e.Kernel | Should -Be $scenario.Kernel
        ($e.Entry + $e.C + $e.Exit) | Should -Be ($scenario.Entry + $scenario.C + $scenario.Exit)
    }

    It 'takes a user table as a hashtable, a .psd1 and a .json file' {
        $base = (New-EmuCpu | Measure-SyscallPath).Cycles
        (New-EmuCpu | Measure-SyscallPath -CostTable @{ sysret = 131 }).Cycles | Should -Be ($base + 100)
        $psd1 = Join-Path $TestDrive 'costs.psd1'
        Set-Content $psd1 "@{ sysret = @{ Cycles = 41; Source = 'a guess' } }"
        $e = New-EmuCpu | Measure-SyscallPath -CostTable $psd1
        $e.Cycles | Should -Be ($base + 10)
        ($e.Lines | Where-Object Key -eq 'sysret').Source | Should -Be 'a guess'
        $json = Join-Path $TestDrive 'costs.json'
        Set-Content $json '{ "sysret": 0 }'
        (New-EmuCpu | Measure-SyscallPath -CostTable $json).Cycles | Should -Be ($base - 31)
    }

    It 'reads a .psd1 table as data: code in it does not run' {
        $psd1 = Join-Path $TestDrive 'evil.psd1'
        $marker = Join-Path $TestDrive 'ran.txt'
        Set-Content $psd1 "@{ sysret = `$(Set-Content '$marker' 1; 5) }"
        { New-EmuCpu | Measure-SyscallPath -CostTable $psd1 -ErrorAction Stop } | Should -Throw -ErrorId 'SyscallTools.InvalidCostTable,*'
        Test-Path $marker | Should -BeFalse
    }

    It 'refuses a bad table with SyscallTools.InvalidCostTable and says what to change' -ForEach @(
        @{ Table = @{ sysrett = 3 }; Says = 'not a cost key' }
        @{ Table = @{ sysret = -1 }; Says = 'not a cycle count' }
        @{ Table = @{ sysret = 'fast' }; Says = 'not a number' }
        @{ Table = 'no-such-file.json'; Says = 'There is no file' }
        @{ Table = 42; Says = 'A cost table is a hashtable' }
    ) {
        $err = { New-EmuCpu | Measure-SyscallPath -CostTable $Table } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'SyscallTools.InvalidCostTable,*'
        $err.Exception.Message | Should -Match $Says
    }

    It 'names unknown scenarios and kernels with their error ids' {
        New-EmuCpu | Measure-SyscallPath -Scenario nope -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.UnknownScenario,*'
        $err[0].Exception.Message | Should -Match 'user-tf'
        $r = New-EmuCpu | Measure-SyscallPath -Kernel linux-9, linux-4.4 -ErrorVariable err2 -ErrorAction SilentlyContinue
        @($r.Kernel) | Should -Be @('linux-4.4')
        $err2[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.UnknownKernel,*'
    }

    It 'asks for a trace when the result has none' {
        $r = New-EmuCpu | Invoke-Syscall getpid
        $r | Measure-SyscallPath -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.NoTrace,*'
    }

    It 'completes scenario names and declares its output type' {
        $r = TabExpansion2 -inputScript 'Measure-SyscallPath -Scenario s' -cursorColumn 'Measure-SyscallPath -Scenario s'.Length
        @($r.CompletionMatches.CompletionText) | Should -Be @('signal-handler')
        (Get-Command Measure-SyscallPath).OutputType.Type | Should -Be ([SyscallTools.SyscallCostEstimate])
        (New-EmuCpu | Measure-SyscallPath | Out-String) | Should -Match 'getpid\s+linux-6\.18\s+AMD\s+64\s+SYSRETL'
    }
}
