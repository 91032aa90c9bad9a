BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../SyscallTools.psd1') -Force
}

Describe 'Get-EmuKernel' {
    It 'lists the three kernels, the unsafe experiment and the 2015 design models' {
        $k = Get-EmuKernel
        @($k.Name) | Should -Be @('linux-4.2', 'linux-4.4', 'linux-6.18', 'linux-6.18-unsafe-sysret',
            'linux-4.4+fastsyscall-flag', 'linux-4.4+exit-work-bypass', 'linux-4.4+ptregs-accessors')
        $k | Where-Object Name -like 'linux-4.4+*' | ForEach-Object {
            $_.Generation | Should -Be 'Rewrite'
            $_.Follows | Should -Match 'LKML, [23] Sep 2015'
        }
        ($k | Where-Object Name -eq 'linux-4.2').Generation | Should -Be 'PreRewrite'
        ($k | Where-Object Name -eq 'linux-6.18').Release | Should -Be '6.18.0'
        $k | ForEach-Object { $_.Description | Should -Not -BeNullOrEmpty; $_.Follows | Should -Not -BeNullOrEmpty }
    }

    It 'accepts wildcards, pipeline values and property names' {
        @(Get-EmuKernel 'linux-6*').Count | Should -Be 2
        @('linux-4.4' | Get-EmuKernel).Name | Should -Be 'linux-4.4'
        @([pscustomobject]@{ Kernel = 'linux-4.2' } | Get-EmuKernel).Name | Should -Be 'linux-4.2'
        @(New-EmuCpu -Kernel linux-4.4 | Get-EmuKernel).Name | Should -Be 'linux-4.4'
    }

    It 'returns nothing and no error for a wildcard that matches nothing' {
        $err = $null
        Get-EmuKernel 'bsd*' -ErrorVariable err | Should -BeNullOrEmpty
        $err | Should -BeNullOrEmpty
    }

    It 'reports an unknown name as SyscallTools.UnknownKernel' {
        $err = $null
        Get-EmuKernel linux-5.0 -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.UnknownKernel,*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'declares its output type' {
        (Get-Command Get-EmuKernel).OutputType.Type | Should -Be ([SyscallTools.Core.Linux.Models.KernelModel])
    }
}
