BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../SyscallTools.psd1') -Force
}

Describe 'Get-EmuVdso' {
    It 'shows the AMD alternative applied, the landing pad and the CFI row at each instruction' {
        $d = New-EmuCpu AMD | Get-EmuVdso
        $d.Flavor | Should -Be 'unified'
        $d.EntryVariant | Should -Be 'syscall'
        $d.LandingPad | Should -Be ($d.KernelVsyscall + 9)
        $vs = @($d.Instructions | Where-Object { $_.Address -lt $d.KernelVsyscall + 13 })
        $vs.Disassembly | Should -Be @('push ecx', 'push edx', 'push ebp', 'mov ebp, ecx', 'syscall', 'int 0x80', 'pop ebp', 'pop edx', 'pop ecx', 'ret')
        $vs[4].Bytes | Should -Be '0f05'
        $vs[3].Cfa | Should -Be 'esp+16'
        $vs[3].Rules | Should -Be 'ecx=c-8 edx=c-12 ebp=c-16 eip=c-4'
        ($d.Symbols | Where-Object Name -eq '__kernel_rt_sigreturn').Address | Should -BeGreaterThan $d.KernelVsyscall
    }

    It 'lists the signal-frame rows of the sigreturn trampolines' {
        $d = Get-EmuVdso (New-EmuCpu Intel)
        $sig = $d.Instructions | Where-Object Symbol -eq '[vdso] __kernel_sigreturn'
        $sig.Cfa | Should -Be 'exp'
        @($d.Cfi).Count | Should -BeGreaterThan 8
    }

    It 'shows a pre-rewrite image: <Vendor> picks <Flavor>' -ForEach @(
        @{ Vendor = 'Intel'; Flavor = 'sysenter' }
        @{ Vendor = 'AMD'; Flavor = 'syscall' }
    ) {
        $d = New-EmuCpu $Vendor linux-4.2 | Get-EmuVdso
        $d.Flavor | Should -Be $Flavor
        $d.LandingPad | Should -BeNullOrEmpty
        $d.Cfi | Should -Not -BeNullOrEmpty
    }

    It 'refuses a machine without a 32-bit vDSO with SyscallTools.InvalidCombination' {
        $err = $null
        New-EmuCpu -NoVdso | Get-EmuVdso -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.InvalidCombination,*'
    }
}
