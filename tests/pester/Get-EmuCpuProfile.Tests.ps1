BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../SyscallTools.psd1') -Force
}

Describe 'Get-EmuCpuProfile' {
    It 'lists one Intel and one AMD profile' {
        $p = Get-EmuCpuProfile
        $p.Vendor | Should -Contain ([SyscallTools.Core.Cpu.CpuVendor]::Intel)
        $p.Vendor | Should -Contain ([SyscallTools.Core.Cpu.CpuVendor]::Amd)
    }

    It 'states the vendor differences the manuals give' {
        $intel = Get-EmuCpuProfile -Vendor Intel
        $amd = Get-EmuCpuProfile -Vendor AMD
        # Intel SDM: SYSENTER valid in IA-32e mode, SYSCALL only in 64-bit mode; AMD APM: the reverse.
        $intel.SysenterInLongMode | Should -BeTrue
        $amd.SysenterInLongMode | Should -BeFalse
        $intel.SyscallOutside64BitMode | Should -BeFalse
        $amd.SyscallOutside64BitMode | Should -BeTrue
        $intel.SysretNonCanonicalGpInRing0 | Should -BeTrue
        $amd.SysretKeepsSsAttributes | Should -BeTrue
        $intel.VendorString | Should -Be 'GenuineIntel'
        $amd.VendorString | Should -Be 'AuthenticAMD'
    }

    It 'accepts wildcards and pipeline input' {
        @('int*') | Get-EmuCpuProfile | ForEach-Object Vendor | Should -Be ([SyscallTools.Core.Cpu.CpuVendor]::Intel)
        [pscustomobject]@{ Vendor = 'amd' } | Get-EmuCpuProfile | ForEach-Object Vendor | Should -Be ([SyscallTools.Core.Cpu.CpuVendor]::Amd)
    }

    It 'reports an unknown vendor as SyscallTools.UnknownVendor' {
        $err = $null
        Get-EmuCpuProfile -Vendor Cyrix -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.UnknownVendor,*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].Exception.Message | Should -Match 'Use one of'
    }

    It 'declares its output type' {
        (Get-Command Get-EmuCpuProfile).OutputType.Type | Should -Be ([SyscallTools.Core.Cpu.CpuProfile])
    }
}
