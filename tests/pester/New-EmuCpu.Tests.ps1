BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../SyscallTools.psd1') -Force
}

Describe 'New-EmuCpu' {
    It 'boots AMD, linux-6.18, a 64-bit kernel and a 32-bit task by default' {
        $c = New-EmuCpu
        $c.Vendor | Should -Be 'AMD'
        $c.Kernel | Should -Be 'linux-6.18'
        $c.KernelBits | Should -Be 64
        $c.Bitness | Should -Be 32
        $c.Pid | Should -Be 4242
        $c.Machine | Should -BeOfType ([SyscallTools.Core.Linux.LinuxMachine])
    }

    It 'patches __kernel_vsyscall for the vendor: SYSCALL on AMD, SYSENTER on Intel, SYSENTER on any 32-bit kernel' {
        # X86_FEATURE_SYSCALL32 on AMD and SYSENTER32 on Intel select the vDSO alternative (arch/x86/entry/vdso/vdso32/system_call.S).
        (New-EmuCpu -Vendor AMD).Vdso.EntryVariant | Should -Be 'syscall'
        (New-EmuCpu -Vendor Intel).Vdso.EntryVariant | Should -Be 'sysenter'
        (New-EmuCpu -Vendor AMD -KernelBits 32).Vdso.EntryVariant | Should -Be 'sysenter'
    }

    It 'describes the vDSO mapping: __kernel_vsyscall and the landing pad lie inside it' {
        $v = (New-EmuCpu).Vdso
        $v.Flavor | Should -Be 'unified'
        $v.KernelVsyscall | Should -BeGreaterThan $v.Base
        $v.LandingPad | Should -BeGreaterThan $v.KernelVsyscall
        $v.LandingPad - $v.Base | Should -BeLessThan 0x2000
    }

    It 'uses the pre-rewrite images on linux-4.2: the sysenter image on Intel, the syscall image on AMD' {
        (New-EmuCpu -Vendor Intel -Kernel linux-4.2).Vdso.Flavor | Should -Be 'sysenter'
        (New-EmuCpu -Vendor AMD -Kernel linux-4.2).Vdso.Flavor | Should -Be 'syscall'
    }

    It 'has no vDSO for a 64-bit task or with -NoVdso' {
        (New-EmuCpu -Bitness 64).Vdso | Should -BeNullOrEmpty
        (New-EmuCpu -NoVdso).Vdso | Should -BeNullOrEmpty
    }

    It 'binds Vendor and Kernel from the pipeline by property name' {
        $cpus = Get-EmuCpuProfile | New-EmuCpu
        @($cpus.Vendor | Sort-Object) | Should -Be @('AMD', 'Intel')
        $k = Get-EmuKernel 'linux-4.?' | New-EmuCpu
        @($k.Kernel) | Should -Be @('linux-4.2', 'linux-4.4')
        $p = [pscustomobject]@{ Vendor = 'Intel'; Kernel = 'linux-4.4'; KernelBits = 32 } | New-EmuCpu
        $p.Vendor | Should -Be 'Intel'
        $p.Kernel | Should -Be 'linux-4.4'
        $p.KernelBits | Should -Be 32
    }

    It 'reports an unknown kernel as SyscallTools.UnknownKernel' {
        $err = $null
        New-EmuCpu -Kernel linux-2.6 -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.UnknownKernel,*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].Exception.Message | Should -Match 'Use one of: linux-4.2'
    }

    It 'refuses a 64-bit task on a 32-bit kernel as SyscallTools.InvalidCombination' {
        $err = $null
        New-EmuCpu -KernelBits 32 -Bitness 64 -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.InvalidCombination,*'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err[0].Exception.Message | Should -Match '-KernelBits 64'
    }

    It 'validates vendor and bitness' {
        { New-EmuCpu -Vendor Cyrix } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SyscallTools.Commands.NewEmuCpuCommand'
        { New-EmuCpu -Bitness 16 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SyscallTools.Commands.NewEmuCpuCommand'
    }

    It 'completes kernel names' {
        $r = TabExpansion2 -inputScript 'New-EmuCpu -Kernel linux-4' -cursorColumn 'New-EmuCpu -Kernel linux-4'.Length
        @($r.CompletionMatches.CompletionText) | Should -Be @('linux-4.2', 'linux-4.4',
            'linux-4.4+fastsyscall-flag', 'linux-4.4+exit-work-bypass', 'linux-4.4+ptregs-accessors')
        # The design models' names work as bare arguments ('+' needs no quoting).
        (New-EmuCpu -Kernel linux-4.4+exit-work-bypass).Kernel | Should -Be 'linux-4.4+exit-work-bypass'
    }

    It 'declares its output type and shows a table' {
        (Get-Command New-EmuCpu).OutputType.Type | Should -Be ([SyscallTools.EmuCpu])
        (New-EmuCpu -Vendor Intel | Out-String) | Should -Match 'Intel\s+linux-6\.18\s+64\s+32\s+sysenter\s+0xb7ff0000'
    }
}
