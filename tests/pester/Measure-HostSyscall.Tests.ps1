# Measure-HostSyscall: real round-trip costs on this machine. The figures vary; what is checked is their shape: every
# method gives a positive figure or a reason, the entry this CPU lacks is a skip, and names are validated.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../SyscallTools.psd1') -Force
    $script:Unavailable = [SyscallTools.Core.Host.HostCapabilities]::Unavailable
}

Describe 'Measure-HostSyscall' {
    It 'gives SyscallTools.UnknownEntryMethod for a name that is no method' {
        $null = Measure-HostSyscall 'int81-32' -ErrorVariable e -ErrorAction SilentlyContinue
        $e[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.UnknownEntryMethod*'
    }

    It 'measures SYSCALL from a 64-bit task, or says why not' {
        # Enough calls (~20 ms) that process start-up jitter (best of three, subtracted) cannot swallow them.
        $r = Measure-HostSyscall syscall-64 -Iterations 200000 -WarningAction SilentlyContinue
        $r.Method | Should -Be 'syscall-64'
        if ($Unavailable) { $r.SkipReason | Should -Not -BeNullOrEmpty; return }
        $r.NsPerCall | Should -BeGreaterThan 0
        $r.NsPerCall | Should -BeLessThan 1000000
    }

    It 'skips the 32-bit entry this CPU does not have, with the reason' {
        if ($Unavailable) { Set-ItResult -Skipped -Because $Unavailable; return }
        $vendor = [SyscallTools.Core.Host.HostCapabilities]::Vendor
        $missing = if ("$vendor" -eq 'Intel') { 'syscall-32' } else { 'sysenter-32' }
        $r = Measure-HostSyscall $missing -Iterations 1000
        if ($r.SkipReason -match 'IA32|32-bit probes') { Set-ItResult -Skipped -Because $r.SkipReason; return }
        $r.NsPerCall | Should -BeNullOrEmpty
        $r.SkipReason | Should -Match 'SIGILL'
    }
}
