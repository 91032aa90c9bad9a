BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../SyscallTools.psd1') -Force
}

Describe 'Invoke-Syscall' {
    It 'makes getpid through the vDSO by default and gets the task pid 4242' {
        $r = New-EmuCpu | Invoke-Syscall -Name getpid
        $r | Should -BeOfType ([SyscallTools.Core.Linux.SyscallResult])
        $r.Return | Should -Be 4242
        $r.Number | Should -Be 20          # i386 __NR_getpid
        $r.Via | Should -Be 'Vdso'
        $r.Errno | Should -BeNullOrEmpty
        $r.Signal | Should -BeNullOrEmpty
    }

    It 'runs on every machine of a -Cpu array in one invocation, one result per machine from its own machine' {
        $pool = (New-EmuCpu -Vendor AMD), (New-EmuCpu -Vendor Intel), (New-EmuCpu -Vendor Intel -KernelBits 32)
        $r = @(Invoke-Syscall -Cpu $pool getpid)
        $r.Count | Should -Be 3
        # The vDSO's entry and the exit differ per machine (AMD: SYSCALL; Intel: SYSENTER; a 32-bit kernel: SYSEXIT).
        $r.EntryInstruction | Should -Be 'SYSCALL', 'SYSENTER', 'SYSENTER'
        $r.ExitInstruction | Should -Be 'SYSRETL', 'SYSRETL', 'SYSEXIT'
        $r.Vendor | Should -Be 'AMD', 'Intel', 'Intel'
        foreach ($i in 0..2) { $pool[$i].LastSyscall | Should -Be $r[$i] }
    }

    It 'a machine in a -Cpu array whose task has exited gets its error and the others still run' {
        $dead = New-EmuCpu
        $null = Invoke-Syscall -Cpu $dead exit_group 0
        $live = New-EmuCpu
        $r = @(Invoke-Syscall -Cpu $dead, $live getpid -ErrorVariable err -ErrorAction SilentlyContinue)
        $r.Count | Should -Be 1
        $r[0].Return | Should -Be 4242
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.TaskExited*'
    }

    It 'on AMD a 32-bit task''s vDSO uses SYSCALL and a 64-bit kernel exits with SYSRETL' {
        $r = New-EmuCpu -Vendor AMD | Invoke-Syscall getpid
        $r.EntryInstruction | Should -Be 'SYSCALL'
        $r.ExitInstruction | Should -Be 'SYSRETL'
    }

    It 'on Intel the vDSO uses SYSENTER, and a 64-bit kernel still exits with SYSRETL' {
        $r = New-EmuCpu -Vendor Intel | Invoke-Syscall getpid
        $r.EntryInstruction | Should -Be 'SYSENTER'
        $r.ExitInstruction | Should -Be 'SYSRETL'
    }

    It 'a 32-bit kernel exits SYSENTER with SYSEXIT' {
        $r = New-EmuCpu -Vendor Intel -KernelBits 32 | Invoke-Syscall getpid
        $r.EntryInstruction | Should -Be 'SYSENTER'
        $r.ExitInstruction | Should -Be 'SYSEXIT'
    }

    It 'int $0x80 always exits with IRET (<Vendor>, <Kernel>, <KernelBits>-bit kernel)' -ForEach @(
        foreach ($v in 'Intel', 'AMD') { foreach ($k in 'linux-4.2', 'linux-4.4', 'linux-6.18') { foreach ($b in 64, 32) { @{ Vendor = $v; Kernel = $k; KernelBits = $b } } } }
    ) {
        $r = New-EmuCpu -Vendor $Vendor -Kernel $Kernel -KernelBits $KernelBits | Invoke-Syscall getpid -Via Int80
        $r.EntryInstruction | Should -Be 'INT 0x80'
        $r.ExitInstruction | Should -Be 'IRET'
        $r.Return | Should -Be 4242
    }

    It 'SYSENTER from a 32-bit task on AMD with a 64-bit kernel gives SIGILL, not a PowerShell error' {
        $err = $null
        $r = New-EmuCpu -Vendor AMD | Invoke-Syscall getpid -Via Sysenter -ErrorVariable err
        $err | Should -BeNullOrEmpty
        $r.Signal | Should -Be 'SIGILL'
        $r.TaskExited | Should -BeTrue
        $r.ExitInstruction | Should -BeNullOrEmpty
    }

    It '32-bit SYSCALL on Intel gives SIGILL (SYSCALL is #UD outside 64-bit mode)' {
        (New-EmuCpu -Vendor Intel | Invoke-Syscall getpid -Via Syscall).Signal | Should -Be 'SIGILL'
    }

    It 'a 64-bit task uses the x86-64 table with SYSCALL and SYSRETQ' {
        $r = New-EmuCpu -Bitness 64 | Invoke-Syscall getpid
        $r.Number | Should -Be 39          # x86-64 __NR_getpid
        $r.Return | Should -Be 4242
        $r.EntryInstruction | Should -Be 'SYSCALL'
        $r.ExitInstruction | Should -Be 'SYSRETQ'
    }

    It 'resolves names in the i386 table for int $0x80 even from a 64-bit task' {
        $r = New-EmuCpu -Bitness 64 | Invoke-Syscall getpid -Via Int80
        $r.Number | Should -Be 20
        $r.Return | Should -Be 4242
        $r.ExitInstruction | Should -Be 'IRET'
    }

    It 'takes a raw number; a number with no table row returns -ENOSYS' {
        $c = New-EmuCpu
        (Invoke-Syscall -Cpu $c -Number 20).Return | Should -Be 4242
        $r = Invoke-Syscall -Cpu $c -Number 400
        $r.Return | Should -Be -38
        $r.Errno | Should -Be 'ENOSYS'
    }

    It 'passes arguments in ABI order: write(99, 0, 0) fails with EBADF' {
        $r = New-EmuCpu | Invoke-Syscall write 99, 0, 0
        $r.Errno | Should -Be 'EBADF'
        $r.Return | Should -Be -9
        $r.Before.Bx | Should -Be 99       # i386: the first argument in ebx
    }

    It 'binds -Cpu by value and -Cpu, -Name, -Via by property name' {
        $c = New-EmuCpu -Vendor Intel
        ($c | Invoke-Syscall getppid).Return | Should -Be 1
        $r = [pscustomobject]@{ Cpu = $c; Name = 'getuid'; Via = 'Int80' } | Invoke-Syscall
        $r.Return | Should -Be 1000
        $r.Via | Should -Be 'Int80'
    }

    It 'remembers the last result on the machine' {
        $c = New-EmuCpu
        $r = $c | Invoke-Syscall gettid
        $c.LastSyscall | Should -Be $r
    }

    It '-Count repeats the call and returns one object with totals' {
        $c = New-EmuCpu
        $one = $c | Invoke-Syscall getpid
        $r = $c | Invoke-Syscall getpid -Count 5
        @($r).Count | Should -Be 1
        $r.Count | Should -Be 5
        $r.TotalUserInstructions | Should -Be (5 * $one.UserInstructions)
        $r.TotalKernelInstructions | Should -Be (5 * $one.KernelInstructions)
        $r.Return | Should -Be 4242
        $r.ExitInstruction | Should -Be 'SYSRETL'
        $r.PSObject.TypeNames[0] | Should -Be 'SyscallTools.Core.Linux.SyscallResult#Repeated'
        ($r | Out-String) | Should -Match '5 getpid'
    }

    It '-Count stops when the task exits' {
        $r = New-EmuCpu | Invoke-Syscall exit 3 -Via Int80 -Count 10
        $r.Count | Should -Be 1
        $r.TaskExited | Should -BeTrue
    }

    It '-Trace records the run' {
        $r = New-EmuCpu | Invoke-Syscall getpid -Trace
        $r.Trace.Count | Should -BeGreaterThan 10
        (New-EmuCpu | Invoke-Syscall getpid).Trace | Should -BeNullOrEmpty
    }

    It '-MaxInstructions stops a call that needs more' {
        $r = New-EmuCpu | Invoke-Syscall getpid -MaxInstructions 5
        $r.Completed | Should -BeFalse
    }

    It 'supports -WhatIf: nothing runs' {
        $c = New-EmuCpu
        Invoke-Syscall -Cpu $c exit 1 -Via Int80 -WhatIf | Should -BeNullOrEmpty
        $c.TaskExited | Should -BeFalse
        $c.LastSyscall | Should -BeNullOrEmpty
    }

    It 'reports an exited task as SyscallTools.TaskExited' {
        $c = New-EmuCpu
        (Invoke-Syscall -Cpu $c exit 3 -Via Int80).TaskExited | Should -BeTrue
        $err = $null
        Invoke-Syscall -Cpu $c getpid -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.TaskExited,*'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
        $err[0].Exception.Message | Should -Match 'exited with status 3.*New-EmuCpu'
    }

    It 'reports an unknown name as SyscallTools.UnknownSyscall and says how to find names' {
        $err = $null
        New-EmuCpu | Invoke-Syscall frobnicate -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.UnknownSyscall,*'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].Exception.Message | Should -Match 'Tab'
        # arch_prctl is x86-64 only.
        New-EmuCpu | Invoke-Syscall arch_prctl -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].Exception.Message | Should -Match 'only in the x86-64 table'
        New-EmuCpu -Bitness 64 | Invoke-Syscall arch_prctl -Via Int80 -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].Exception.Message | Should -Match 'int \$0x80 always uses the i386 one'
    }

    It 'reports -Via Vdso without a vDSO as SyscallTools.InvalidCombination' {
        foreach ($c in (New-EmuCpu -Bitness 64), (New-EmuCpu -NoVdso)) {
            $err = $null
            $c | Invoke-Syscall getpid -Via Vdso -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeLike 'SyscallTools.InvalidCombination,*'
            $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        }
    }

    It 'takes at most six arguments' {
        { New-EmuCpu | Invoke-Syscall getpid 1, 2, 3, 4, 5, 6, 7 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,SyscallTools.Commands.InvokeSyscallCommand'
    }

    It 'completes -Name from the -Cpu''s table, or both tables without one' {
        $line = 'Invoke-Syscall -Name getp'
        $names = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
        $names | Should -Contain 'getpid'
        $names | Should -Contain 'getppid'
        $line = 'Invoke-Syscall -Name arch_'
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be 'arch_prctl'
        $c32 = New-EmuCpu
        $c64 = New-EmuCpu -Bitness 64
        $completer = [SyscallTools.Completion.SyscallNameCompleter]::new()
        @($completer.CompleteArgument('Invoke-Syscall', 'Name', 'arch', $null, @{ Cpu = $c32 })).Count | Should -Be 0
        @($completer.CompleteArgument('Invoke-Syscall', 'Name', 'arch', $null, @{ Cpu = $c64 })).CompletionText | Should -Be 'arch_prctl'
        @($completer.CompleteArgument('Invoke-Syscall', 'Name', 'arch', $null, @{ Cpu = $c64; Via = 'Int80' })).Count | Should -Be 0
        @($completer.CompleteArgument('Invoke-Syscall', 'Name', 'mmap2', $null, @{ Cpu = $c32 })).ToolTip | Should -Match 'i386 number 192'
    }

    It 'declares its output type and shows a table' {
        (Get-Command Invoke-Syscall).OutputType.Type | Should -Be ([SyscallTools.Core.Linux.SyscallResult])
        (New-EmuCpu | Invoke-Syscall getpid | Out-String) | Should -Match 'getpid\s+Vdso\s+4242\s+SYSCALL\s+SYSRETL'
    }
}
