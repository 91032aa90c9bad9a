# Compare-HostKernel: the real kernel of this machine as the oracle. Every scenario runs on the host and in the
# emulator (the host's CPU vendor, linux-6.18, the host's own vDSO via -HostVdso); any disagreement fails here. Where
# the host cannot run a scenario (not Linux x86-64, no IA32 emulation, no ptrace) the scenario is skipped with the
# reason the command gives.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../../SyscallTools.psd1') -Force
    $script:Names = @((Compare-HostKernel -ListAvailable).Name)
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../SyscallTools.psd1') -Force
    $script:Rows = @(Compare-HostKernel -HostVdso -WarningAction SilentlyContinue)
}

Describe 'Compare-HostKernel' {
    It 'lists its scenarios with -ListAvailable, each with a description' {
        $list = @(Compare-HostKernel -ListAvailable)
        $list.Count | Should -BeGreaterOrEqual 25
        $list | Where-Object { -not $_.Description } | Should -BeNullOrEmpty
        ($list | Where-Object Traced).Name | Should -Contain 'ptrace-vdso-32'
    }

    It 'selects scenarios by wildcard, and takes -ListAvailable output back from the pipeline' {
        @(Compare-HostKernel 'exec-*' -ListAvailable).Name | Should -Be @('exec-32', 'exec-64')
        $rows = @(Compare-HostKernel -ListAvailable 'exec-64' | Compare-HostKernel)
        @($rows.Scenario | Select-Object -Unique) | Should -Be @('exec-64')
    }

    It 'gives SyscallTools.UnknownScenario for a name that is no scenario' {
        $null = Compare-HostKernel 'no-such-scenario' -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.UnknownScenario*'
    }

    It 'gives SyscallTools.UnknownKernel for a kernel model it does not have' {
        $null = Compare-HostKernel 'exec-64' -Kernel 'linux-9.99' -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.UnknownKernel*'
    }

    It 'returns one row per observable, or one skipped row that says why' {
        foreach ($r in $Rows) {
            $r.Scenario | Should -Not -BeNullOrEmpty
            $r.Field | Should -Not -BeNullOrEmpty
            if ($r.Skipped) { $r.SkipReason | Should -Not -BeNullOrEmpty; $r.Agree | Should -BeFalse }
        }
        @($Rows.Scenario | Select-Object -Unique).Count | Should -Be $Names.Count
    }

    It 'shows addresses relative to probe labels, the vDSO or sp0, never as host numbers' {
        $r = @($Rows | Where-Object { $_.Scenario -eq 'ptrace-vdso-32' -and $_.Field -eq 'entry.ip' })
        if ($r[0].Skipped) { Set-ItResult -Skipped -Because $r[0].SkipReason; return }
        $r[0].Host | Should -Match '^vdso\+0x[0-9a-f]+$'
        ($Rows | Where-Object { $_.Scenario -eq 'syscall-64-close' -and $_.Field -eq 'after.cx' }).Host | Should -Be 'probe:returned'
    }
}

Describe 'The emulator agrees with this host on <_>' -ForEach $Names {
    It 'agrees on every observable' {
        $mine = @($Rows | Where-Object Scenario -eq $_)
        if ($mine.Count -eq 1 -and $mine[0].Skipped) { Set-ItResult -Skipped -Because $mine[0].SkipReason; return }
        $diff = @($mine | Where-Object { -not $_.Agree } | ForEach-Object { "$($_.Field): host '$($_.Host)', emulated '$($_.Emulated)'" })
        $diff | Should -BeNullOrEmpty -Because 'the emulator must behave like the real kernel on this machine'
        $mine.Count | Should -BeGreaterOrEqual 1
    }
}
