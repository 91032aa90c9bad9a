# sysret_rip (tools/testing/selftests/x86/sysret_rip.c @ 0d91d102; 64-bit build only): the guard against the Intel
# SYSRET erratum (SYSRET to a non-canonical RIP takes #GP in ring 0 on Intel, in ring 3 on AMD).
#  1. For i = 47..63, raise(SIGUSR1); the handler sets RIP and RCX to 1 << i, so a "rcx == rip && r11 == flags"
#     SYSRET test would pass, asserts r11 == eflags in the frame, and returns: rt_sigreturn must not SYSRET there. Pass
#     is "[OK] Got SIGSEGV at RIP=1<<i", and above all no kernel crash.
#  2. A page of int3 ending in `syscall` is mremapped so that the instruction after SYSCALL is at ip, and called with
#     eax = getpid: the task must get SIGSEGV at RIP == ip ("[OK] We survived"). For ip = (1<<47) - 2 pages and
#     (1<<47) - 1 page the return is ordinary and the fetch at ip faults; for ip = 1<<47 RCX is non-canonical after
#     SYSCALL. But TASK_SIZE_MAX is (1<<47) - 4096, so that page (and every larger one) is not user space and the
#     selftest reports "[OK] mremap to ... failed" there. (The model has no mremap; the page is mapped directly.)
#     On linux-4.2/4.4 the SYSRETQ fast path has no canonical check at all and relies on that limit: mapping the top
#     page anyway makes the model oops on Intel, as those kernels would; only 6.18 is run there, as an extra.
#
# These scenarios install no SIGSEGV handler: the task is killed by SIGSEGV, and the RIP the kernel was returning to
# is read from pt_regs at the exit (the IRET frame, which fixup_bad_iret copies into the user frame the signal is
# delivered on). Ordinary user faults (part 2 below 1<<47) do give the user RIP and CR2.
# linux-6.18-unsafe-sysret (not a real kernel: 6.18 without the ip < TASK_SIZE_MAX check) shows what the test guards
# against.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'ScenarioHelpers.ps1')
    $script:Cases = @(Get-ScenarioMatrix -Bitness 64 -KernelBits 64)
    $script:Bits = @(47..63 | ForEach-Object { @{ Bit = $_; Hex = '0x{0:x}' -f ([ulong]1 -shl $_) } })
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../../SyscallTools.psd1') -Force
    . (Join-Path $PSScriptRoot 'ScenarioHelpers.ps1')
    $script:PageSize = [ulong]4096

    # test_sigreturn_to(ip): returns the run, the "r11 == eflags" flag the handler stored, and the last kernel entry.
    function Invoke-SigreturnTo([hashtable] $Case, [ulong] $Ip) {
        $cpu = New-ScenarioCpu $Case
        $m = $cpu.Machine
        $ok = $m.UserDataArea + 0x100
        $handler = $m.UserText + 0x100
        # sigusr1(): rdx = ucontext; uc_mcontext at +40: r11 +24, rcx +112, rip +128, eflags +136.
        $null = Write-UserCode $cpu $handler @(
            'mov rax, [rdx+64]', 'cmp rax, [rdx+176]', "sete byte ptr [$ok]",
            "mov rax, $Ip", 'mov [rdx+168], rax', 'mov [rdx+152], rax', 'ret')
        Set-SignalHandler $cpu $SIGUSR1 $handler $SA_SIGINFO
        # raise(SIGUSR1): tgkill(getpid(), gettid(), SIGUSR1) through SYSCALL.
        $r = $cpu | Invoke-EmuCode -Assembly "mov edi, $TaskPid", "mov esi, $TaskPid", "mov edx, $SIGUSR1", 'mov eax, 234', 'syscall' -MaxInstructions 100000
        $last = @($r.KernelEntries | Where-Object Number -eq 15)[-1]
        [pscustomobject]@{ Run = $r; R11MatchesFlags = $m.Memory.ReadBytes($ok, 1)[0] -eq 1; Sigreturn = $last }
    }

    # PtRegsAtExit is a list of (Name, Value) tuples: pt_regs as the exit policy saw it.
    function Get-PtRegsValue($Record, [string] $Name) { @($Record.PtRegsAtExit | Where-Object { $_.Item1 -eq $Name } | ForEach-Object { $_.Item2 })[0] }

    # test_syscall_fallthrough_to(ip): a page of int3 ending in syscall at ip - 4096, called at ip - 2.
    function Invoke-FallthroughTo([hashtable] $Case, [ulong] $Ip) {
        $cpu = New-ScenarioCpu $Case
        $m = $cpu.Machine
        $page = $Ip - $PageSize
        $m.Memory.Map($page, $PageSize, [SyscallTools.Core.Memory.PageFlags]::UserCode)
        $bytes = [byte[]]::new(4096); for ($i = 0; $i -lt 4094; $i++) { $bytes[$i] = 0xCC }
        $bytes[4094] = 0x0F; $bytes[4095] = 0x05
        $m.Memory.WriteBytes($page, $bytes)
        # The model's 64-bit stack ends at 0x7fffffffe000, right under these pages: call from a stack in the data area.
        $cpu | Invoke-EmuCode -Assembly "mov rsp, $($m.UserDataArea + 0x1000)", 'mov eax, 39', "mov rcx, $($Ip - 2)", 'call rcx' -MaxInstructions 100000
    }
}

Describe 'sysret_rip' {
    Context '<Name>' -ForEach $Cases {
        BeforeAll {
            $case = @{ Kernel = $Kernel; Vendor = $Vendor; KernelBits = $KernelBits; Bitness = $Bitness }
        }

        It '[RUN] sigreturn to <Hex>: [OK] Got SIGSEGV at RIP=<Hex>, no SYSRET to it' -ForEach $Bits {
            $ip = [ulong]1 -shl $Bit
            $out = Invoke-SigreturnTo $case $ip
            $out.R11MatchesFlags | Should -BeTrue -Because 'R11 and EFLAGS should already match'
            $out.Run.Oops | Should -BeNullOrEmpty -Because 'the kernel must not crash'
            $out.Run.Signal | Should -Be 'SIGSEGV'
            $out.Run.TaskExited | Should -BeTrue
            $out.Sigreturn.Exit.Instruction | Should -Be 'IRET'
            Get-PtRegsValue $out.Sigreturn 'ip' | Should -Be $ip
            Get-PtRegsValue $out.Sigreturn 'cx' | Should -Be $ip
        }

        It '[RUN] Trying a SYSCALL that falls through to <Hex>: [OK] We survived (SIGSEGV at that RIP)' -ForEach @(
            @{ Pages = 2; Hex = '0x7fffffffe000' }, @{ Pages = 1; Hex = '0x7ffffffff000' }) {
            $ip = ([ulong]1 -shl 47) - [ulong]$Pages * $PageSize
            '0x{0:x}' -f $ip | Should -Be $Hex
            $r = Invoke-FallthroughTo $case $ip
            $r.Oops | Should -BeNullOrEmpty
            $r.Signal | Should -Be 'SIGSEGV'
            $r.After.Ip | Should -Be $ip
            $r.Fault.Cr2 | Should -Be $ip
            # (Not the selftest's concern: 6.x takes SYSRETQ only for ip < TASK_SIZE_MAX, and 0x7ffffffff000 is
            # TASK_SIZE_MAX itself; v4.x's fast path returns with SYSRETQ.)
            $sysret = if ($Kernel -eq 'linux-6.18' -and $ip -ge [SyscallTools.Core.Linux.Models.KernelModel]::TaskSizeMax) { 'IRET' } else { 'SYSRETQ' }
            $r.KernelEntries[0].Exit.Instruction | Should -Be $sysret
        }

        It '[RUN] Trying a SYSCALL that falls through to 0x800000000000: [OK] mremap to 0x7ffffffff000 failed' {
            # TASK_SIZE_MAX is one page below 1<<47 precisely so that nothing executable sits at the top canonical
            # page: the selftest's mremap there fails, and so do the larger ip's (non-canonical pages).
            ([ulong]1 -shl 47) - $PageSize | Should -BeGreaterOrEqual ([SyscallTools.Core.Linux.Models.KernelModel]::TaskSizeMax)
        }

        # Beyond the selftest (the model can map what mremap refuses): 6.x also checks ip < TASK_SIZE_MAX before SYSRETQ.
        It 'with the top page mapped anyway, linux-6.18 refuses SYSRETQ to 0x800000000000 and the task gets SIGSEGV' -AllowNullOrEmptyForEach -ForEach @(
            if ($Kernel -eq 'linux-6.18') { @{ Modern = $true } }) {
            $ip = [ulong]1 -shl 47
            $r = Invoke-FallthroughTo $case $ip
            $r.Oops | Should -BeNullOrEmpty -Because 'the kernel must not crash'
            $r.Signal | Should -Be 'SIGSEGV'
            $call = $r.KernelEntries[0]
            $call.Exit.Instruction | Should -Be 'IRET'
            Get-PtRegsValue $call 'ip' | Should -Be $ip
        }
    }

    Context 'linux-6.18-unsafe-sysret, <Vendor> (no such kernel: what the selftest guards against)' -ForEach @(
        @{ Vendor = 'Intel'; Oops = $true }, @{ Vendor = 'AMD'; Oops = $false }) {
        It 'SYSRETQ to 0x800000000000: <(if ($Oops) { "#GP in ring 0, a kernel oops" } else { "#GP in ring 3, SIGSEGV" })>' {
            $r = Invoke-FallthroughTo @{ Kernel = 'linux-6.18-unsafe-sysret'; Vendor = $Vendor; KernelBits = 64; Bitness = 64 } ([ulong]1 -shl 47)
            $r.KernelEntries[0].Exit.Instruction | Should -Be 'SYSRETQ'
            if ($Oops) { $r.Oops | Should -Match '#GP in kernel mode' } else { $r.Oops | Should -BeNullOrEmpty; $r.Signal | Should -Be 'SIGSEGV' }
        }
    }
}
