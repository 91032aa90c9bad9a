BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../SyscallTools.psd1') -Force
    # This machine's own 32-bit vDSO, dumped by Elf/Images/dumpvdso32.c (see the README there).
    $script:HostVdso = Join-Path $PSScriptRoot '../SyscallTools.Core.Tests/Elf/Images/host-vdso32.so'
    $script:Tiny64 = Join-Path $PSScriptRoot '../SyscallTools.Core.Tests/Elf/Images/tiny64.so'
}

Describe 'Import-EmuVdso' {
    It 'maps a real vDSO on <Vendor>, finds its landing pad by its bytes, and runs it' -ForEach @(
        @{ Vendor = 'Intel'; Entry = 'SYSENTER'; Variant = 'sysenter' }
        @{ Vendor = 'AMD'; Entry = 'SYSCALL'; Variant = 'syscall' }
    ) {
        $c = New-EmuCpu $Vendor
        $v = Import-EmuVdso -Cpu $c $HostVdso -PassThru
        $v.Flavor | Should -Be 'imported'
        $v.EntryVariant | Should -Be $Variant
        $v.LandingPad | Should -Be ($v.Base + 0x5e9)
        $r = $c | Invoke-Syscall getpid
        $r.Return | Should -Be 4242
        $r.EntryInstruction | Should -Be $Entry
        $r.ExitSymbol | Should -Be '[vdso] int80_landing_pad'
        $c | Test-VdsoUnwind | Where-Object { -not $_.Passed } | Should -BeNullOrEmpty
    }

    It 'says how it found each address with -Verbose' {
        $out = New-EmuCpu | Import-EmuVdso $HostVdso -Verbose 4>&1
        ($out | Out-String) | Should -Match 'found by its bytes'
    }

    It 'gives SyscallTools.InvalidVdsoImage for <What>, never an exception, and leaves the machine as it was' -ForEach @(
        @{ What = 'a missing file'; Make = { Join-Path $TestDrive 'missing.so' } }
        @{ What = 'a text file'; Make = { $p = Join-Path $TestDrive 'text.so'; Set-Content $p 'hello'; $p } }
        @{ What = 'a truncated image'; Make = { $p = Join-Path $TestDrive 'cut.so'; [IO.File]::WriteAllBytes($p, [IO.File]::ReadAllBytes($HostVdso)[0..0x2ff]); $p } }
        @{ What = 'a 64-bit shared object'; Make = { $Tiny64 } }
        @{ What = 'an image without a landing pad'; Make = {
            $b = [IO.File]::ReadAllBytes($HostVdso); $b[0x5e7] = 0x90; $b[0x5e8] = 0x90
            $p = Join-Path $TestDrive 'nopad.so'; [IO.File]::WriteAllBytes($p, $b); $p } }
    ) {
        $c = New-EmuCpu
        $before = $c.Vdso
        $err = $null
        # A terminating error (an exception) would fail the test here; a clear non-terminating error is expected.
        Import-EmuVdso -Cpu $c (& $Make) -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.InvalidVdsoImage,*'
        $c.Vdso.Flavor | Should -Be $before.Flavor
        ($c | Invoke-Syscall getpid).Return | Should -Be 4242
    }

    It 'refuses a pre-rewrite kernel and a 64-bit task with SyscallTools.InvalidCombination' {
        $err = $null
        New-EmuCpu -Kernel linux-4.2 | Import-EmuVdso $HostVdso -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.InvalidCombination,*'
        New-EmuCpu -Bitness 64 | Import-EmuVdso $HostVdso -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.InvalidCombination,*'
    }

    It 'changes nothing with -WhatIf' {
        $c = New-EmuCpu
        Import-EmuVdso -Cpu $c $HostVdso -WhatIf
        $c.Vdso.Flavor | Should -Be 'unified'
    }
}
