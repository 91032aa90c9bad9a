BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../SyscallTools.psd1') -Force
}

# What each 2015 proposal gets right and wrong is pinned down (with the reasons) in
# tests/SyscallTools.Core.Tests/Linux/DesignModelTests.cs; these tests check that the cmdlet reports it.
Describe 'Compare-EmuKernel' {
    BeforeAll {
        $rows = New-EmuCpu -Vendor AMD | Compare-EmuKernel
    }

    It 'runs every scenario on linux-4.4 and the three design models, baseline first' {
        @($rows).Count | Should -Be 20
        @($rows | Select-Object -ExpandProperty Scenario -Unique) | Should -Be @('getpid', 'user-tf', 'signal-handler', 'kill-self', 'tracer-edit')
        $rows | ForEach-Object { $_.Baseline | Should -Be 'linux-4.4' }
        $base = @($rows | Where-Object Kernel -eq 'linux-4.4')
        $base.Count | Should -Be 5
        $base | ForEach-Object { $_.Correct | Should -BeTrue; $_.Delta | Should -Be 0 }
    }

    It 'finds every proposal correct and cheaper on the plain call' {
        $plain = @($rows | Where-Object { $_.Scenario -eq 'getpid' -and $_.Kernel -ne 'linux-4.4' })
        $plain.Count | Should -Be 3
        $plain | ForEach-Object {
            $_.Correct | Should -BeTrue
            $_.Delta | Should -BeLessThan 0
            $_.ExitInstruction | Should -Be 'SYSRETL'
        }
    }

    It 'finds the literal exit-work bypass wrong for signals, and says what the task saw' {
        $h = $rows | Where-Object { $_.Scenario -eq 'signal-handler' -and $_.Kernel -eq 'linux-4.4+exit-work-bypass' }
        $h.Correct | Should -BeFalse
        $h.Differences | Should -Contain 'handler runs: 0 (linux-4.4: 1)'
        ($rows | Where-Object { $_.Scenario -eq 'signal-handler' -and $_.Kernel -eq 'linux-4.4+fastsyscall-flag' }).DecidedBy | Should -Be 'ti->status & TS_FASTSYSCALL'
    }

    It 'finds all three wrong for the user''s own TF on AMD: SYSRETL traps before the landing pad runs' {
        $tf = @($rows | Where-Object { $_.Scenario -eq 'user-tf' -and $_.Kernel -ne 'linux-4.4' })
        $tf.Count | Should -Be 3
        $tf | ForEach-Object {
            $_.Correct | Should -BeFalse
            $_.ExitInstruction | Should -Be 'SYSRETL'
            $_.Differences | Should -Contain 'ip: int80_landing_pad (linux-4.4: int80_landing_pad+1)'
        }
    }

    It 'takes other kernels, scenarios, a baseline and a cost table' {
        $r = New-EmuCpu -Vendor Intel | Compare-EmuKernel -Kernel linux-4.4, linux-4.2 -Scenario getpid -Baseline linux-4.2
        @($r.Kernel) | Should -Be @('linux-4.2', 'linux-4.4')
        $r[1].Delta | Should -BeGreaterOrEqual 17
        $r[1].Delta | Should -BeLessOrEqual 19
        # A dearer SYSRET (the built-in figure is 31) costs each row 100 more: one SYSRETL per plain call, both kernels.
        $dear = New-EmuCpu -Vendor Intel | Compare-EmuKernel -Kernel linux-4.4, linux-4.2 -Scenario getpid -Baseline linux-4.2 -CostTable @{ sysret = 131 }
        $dear[0].Cycles | Should -Be ($r[0].Cycles + 100)
        $dear[1].Cycles | Should -Be ($r[1].Cycles + 100)
        $dear[1].Delta | Should -Be $r[1].Delta
    }

    It 'stops with an error id for an unknown kernel, scenario or cost table' -ForEach @(
        @{ Call = { New-EmuCpu | Compare-EmuKernel -Kernel linux-4.4, linux-9 }; Id = 'SyscallTools.UnknownKernel' }
        @{ Call = { New-EmuCpu | Compare-EmuKernel -Scenario getpid, nope }; Id = 'SyscallTools.UnknownScenario' }
        @{ Call = { New-EmuCpu | Compare-EmuKernel -CostTable @{ nope = 1 } }; Id = 'SyscallTools.InvalidCostTable' }
    ) {
        $Call | Should -Throw -ErrorId "$Id,*"
    }

    It 'declares its output type and shows a table' {
        (Get-Command Compare-EmuKernel).OutputType.Type | Should -Be ([SyscallTools.KernelComparison])
        ($rows | Select-Object -First 2 | Out-String) | Should -Match 'getpid\s+linux-4\.4\+fastsyscall-flag\s+SYSRETL\s+True'
    }
}
