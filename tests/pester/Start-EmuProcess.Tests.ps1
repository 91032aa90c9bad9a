# Start-EmuProcess runs the C fixtures of tests/fixtures (built here by tests/fixtures/build.sh with gcc) and gives the
# output and exit status this machine's kernel gives the same file. Without gcc (or without gcc-multilib for the 32-bit
# ones) those tests skip and say why; the rest use programs written without a compiler.
BeforeDiscovery {
    $root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $hash = [BitConverter]::ToString([Security.Cryptography.SHA256]::HashData([Text.Encoding]::UTF8.GetBytes($root)), 0, 4) -replace '-', ''
    $script:FixtureDir = Join-Path ([IO.Path]::GetTempPath()) "syscalltools-fixtures-ps-$hash"
    $script:NoFixtures = $null
    if (-not $IsLinux) { $script:NoFixtures = 'the fixtures are Linux programs: this host is not Linux' }
    else {
        $err = & sh (Join-Path $root 'tests/fixtures/build.sh') $FixtureDir 2>&1
        if ($LASTEXITCODE -ne 0) { $script:NoFixtures = "cannot build the C fixtures: $err" }
    }
    $script:No32 = if ($NoFixtures) { $NoFixtures } elseif (-not (Test-Path (Join-Path $FixtureDir 'hello-32'))) { 'no 32-bit fixtures: gcc -m32 -static fails (install gcc-multilib)' }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../SyscallTools.psd1') -Force
    $root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $hash = [BitConverter]::ToString([Security.Cryptography.SHA256]::HashData([Text.Encoding]::UTF8.GetBytes($root)), 0, 4) -replace '-', ''
    $FixtureDir = Join-Path ([IO.Path]::GetTempPath()) "syscalltools-fixtures-ps-$hash"
    function Fixture([string] $Name) { Join-Path $FixtureDir $Name }
    # The host's run, with exactly the given environment (env -i); these fixtures do not read standard input.
    function Invoke-OnHost([string] $Path, [string[]] $Arguments = @(), [string[]] $Environment = @()) {
        $out = & env -i @Environment $Path @Arguments 2>$null | Out-String
        [pscustomobject]@{ Stdout = $out; Code = $LASTEXITCODE }
    }
    $exitCode = [byte[]](0xBB, 7, 0, 0, 0, 0xB8, 1, 0, 0, 0, 0xCD, 0x80)
    $Exit7 = Join-Path $TestDrive 'exit7'
    [IO.File]::WriteAllBytes($Exit7, [SyscallTools.Core.Elf.ElfExecutableWriter]::WriteArrays(32, 0x8048000, $exitCode, 0x8048100, 0x8058000, [byte[]]@(1), 0x1000))
}

Describe 'Start-EmuProcess' {
    It 'runs a program written without a compiler to its exit status, through int $0x80 and IRET' {
        $r = New-EmuCpu | Start-EmuProcess $Exit7
        $r.ExitStatus | Should -Be 7
        $r.Exited | Should -BeTrue
        $r.Syscalls | Should -HaveCount 1
        $r.Syscalls[0].Name | Should -Be 'exit'
        $r.Syscalls[0].EntryInstruction | Should -Be 'INT 0x80'
        $r.UserInstructions | Should -Be 3
    }

    It 'stops at the budget with a warning and an unfinished result' {
        $r = New-EmuCpu | Start-EmuProcess $Exit7 -MaxInstructions 2 -WarningVariable w -WarningAction SilentlyContinue
        $r.Exited | Should -BeFalse
        $r.Outcome | Should -Match 'BudgetExhausted'
        $w | Should -HaveCount 1
    }

    It '-WhatIf runs nothing' {
        $c = New-EmuCpu
        $c | Start-EmuProcess $Exit7 -WhatIf | Should -BeNullOrEmpty
        $c.Machine.ExecLayout | Should -BeNullOrEmpty
    }
}

Describe 'Start-EmuProcess on gcc-built programs' {
    It 'hello (32-bit, AMD) prints what it prints on the host, with the same arguments and environment' -Skip:([bool]$No32) {
        $h = Invoke-OnHost (Fixture hello-32) 'one', 'two words' 'FIXTURE_WHO=pester'
        $r = New-EmuCpu -Vendor AMD | Start-EmuProcess (Fixture hello-32) -ArgumentList 'one', 'two words' -Environment @{ FIXTURE_WHO = 'pester' }
        $r.Stdout | Should -BeExactly $h.Stdout
        $r.ExitStatus | Should -Be $h.Code
        $h.Code | Should -Be 2                                    # argc - 1: the arguments arrived
        $r.NotModelledSyscalls | Should -Be @('rseq')
    }

    It 'the 32-bit program''s vDSO calls leave by SYSRETL on AMD (linux-6.18), its int $0x80 calls by IRET' -Skip:([bool]$No32) {
        $r = New-EmuCpu -Vendor AMD | Start-EmuProcess (Fixture hello-32)
        $vdso = @($r.Syscalls | Where-Object { $_.ViaVdso -and $_.ExitInstruction })
        $vdso.Count | Should -BeGreaterThan 5
        $vdso.ExitInstruction | Sort-Object -Unique | Should -Be 'SYSRETL'
        @($r.Syscalls | Where-Object EntryInstruction -eq 'INT 0x80').ExitInstruction | Sort-Object -Unique | Should -Be 'IRET'
    }

    It 'cat_file (64-bit) copies -StandardInput to stdout and counts it on stderr' -Skip:([bool]$NoFixtures) {
        $text = "first line`nsecond line`n"
        $r = New-EmuCpu -Bitness 64 | Start-EmuProcess (Fixture cat_file-64) -StandardInput $text
        $r.Stdout | Should -BeExactly $text
        $r.Stderr | Should -BeExactly "$([Text.Encoding]::UTF8.GetByteCount($text)) bytes`n"
        $r.ExitStatus | Should -Be 0
    }

    It 'cat_file reads a -File of the virtual file system' -Skip:([bool]$NoFixtures) {
        $r = New-EmuCpu -Bitness 64 | Start-EmuProcess (Fixture cat_file-64) /data/in.txt -File @{ '/data/in.txt' = "virtual`n" }
        $r.Stdout | Should -BeExactly "virtual`n"
        ($r.Syscalls | Where-Object Name -eq 'openat').Return | Should -Be 3
    }

    It 'a Set-PtRegs edit at exit_group''s entry stop changes the exit status' -Skip:([bool]$No32) {
        $c = New-EmuCpu
        Set-PtRegs $c SyscallEntry -Persist -ScriptBlock { if ($_.Peek('orig_ax') -eq 252) { $_.Poke('bx', 42) } }
        $r = $c | Start-EmuProcess (Fixture hello-32)
        $r.ExitStatus | Should -Be 42
        $r.Stdout | Should -Match '^hello, world'
    }

    It 'signal_read: the alarm interrupts read, the handler runs, read fails with EINTR (as on the host)' -Skip:([bool]$No32) {
        $h = Invoke-OnHost (Fixture signal_read-32)
        $r = New-EmuCpu -Vendor Intel | Start-EmuProcess (Fixture signal_read-32)
        $r.Stdout | Should -BeExactly $h.Stdout
        $r.ExitStatus | Should -Be 0
        ($r.Syscalls | Where-Object Name -eq 'read').Signal | Should -Be 'SIGALRM'
    }

    It '-Tty makes stdout a terminal, so stdio line-buffers: one write per line instead of one at exit' -Skip:([bool]$NoFixtures) {
        # glibc's _IO_file_doallocate: S_ISCHR with a pts major (DEV_TTY_P) sets _IO_LINE_BUF; a pipe is fully buffered.
        $tty = New-EmuCpu -Bitness 64 | Start-EmuProcess (Fixture hello-64) one -Tty
        $pipe = New-EmuCpu -Bitness 64 | Start-EmuProcess (Fixture hello-64) one
        $tty.Stdout | Should -BeExactly $pipe.Stdout
        $lines = ($pipe.Stdout -split "`n" | Where-Object { $_ }).Count
        @($tty.Syscalls | Where-Object Name -eq 'write').Count | Should -Be $lines
        @($pipe.Syscalls | Where-Object Name -eq 'write').Count | Should -Be 1
    }
}
