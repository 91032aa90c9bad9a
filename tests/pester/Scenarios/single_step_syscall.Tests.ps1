# single_step_syscall (tools/testing/selftests/x86/single_step_syscall.c @ 023265ed; both bitnesses): system calls with
# EFLAGS.TF set and a SIGTRAP handler that counts traps ("[WARN] SIGTRAP handler had TF set" and exit if the handler
# runs with TF). Each of: nop; (64-bit) a "syscall-less opportunistic sysret" (r11 = flags, rcx = the next
# instruction); int $0x80 getpid; a libc fast syscall (the vDSO in the 32-bit build, SYSCALL in the 64-bit one) —
# must give at least one SIGTRAP and leave TF set: "[OK] Survived with TF set and N traps". A fast syscall with TF
# clear must give none and leave TF clear: "[OK] Nothing unexpected happened". Finally a forced SYSENTER with TF set
# and EBP = 0 must deliver a signal (SIGSEGV where SYSENTER enters the kernel: the return to the broken stack faults;
# SIGILL where it is #UD: AMD in long mode) whose frame EFLAGS still has TF.
#
# Where a model differs:
# * The forced SYSENTER leaves SP = 0; as in the selftest the SIGSEGV/SIGILL handler runs on a sigaltstack. It reads
#   the frame's EFLAGS, then stands in for siglongjmp() by pointing its frame at the code after the SYSENTER, where the
#   selftest's last "fast syscall with TF clear" runs (it is also checked on a fresh stepped task above).
# * linux-4.4, forced SYSENTER that enters the kernel: do_debug() cleared TF and set TIF_SINGLESTEP, and only the
#   syscall entry work (syscall_trace_enter) put TF back into pt_regs; with EBP = 0 the arg-6 fetch fails and
#   do_fast_syscall_32 returns -EFAULT through IRET without that work, so the SIGSEGV frame has TF clear. This part of
#   the selftest is newer than 4.4 (the TF bookkeeping moved into the entry asm later), and 4.4 would fail it.
# * linux-4.2 behaves as 4.4 in the forced-SYSENTER case (the same do_debug() bookkeeping, and arg 6 is fetched
#   before the entry work). (An earlier model bug — the kernel-mode #DB in the 4.2 SYSENTER entry was ignored without
#   clearing TF — was fixed; see PtraceRegressionTests.Linux42SingleSteppedSysenterPutsTfBackInsteadOfOopsing.)
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'ScenarioHelpers.ps1')
    $script:Cases = @(Get-ScenarioMatrix)
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../../SyscallTools.psd1') -Force
    . (Join-Path $PSScriptRoot 'ScenarioHelpers.ps1')

    # A machine whose SIGTRAP handler counts traps at data+0x200 and ORs the flags it runs with into data+0x204.
    function New-SteppingCpu([hashtable] $Case) {
        $cpu = New-ScenarioCpu $Case
        $m = $cpu.Machine
        $count = $m.UserDataArea + 0x200; $seen = $m.UserDataArea + 0x204
        $handler = $m.UserText + 0x100
        $body = if ($Case.Bitness -eq 64) { 'pushfq', 'pop rax' } else { 'pushfd', 'pop eax' }
        $null = Write-UserCode $cpu $handler ($body + "or dword ptr [$seen], eax", "inc dword ptr [$count]", 'ret')
        Set-SignalHandler $cpu $SIGTRAP $handler $SA_SIGINFO
        $cpu
    }

    # set_eflags(get_eflags() | TF) (when -Tf), the body, then the flags into bx; TF is cleared again at the end.
    function Invoke-Stepped($Cpu, [string[]] $Body, [switch] $Tf) {
        $w = if ($Cpu.Bitness -eq 64) { 'q' } else { 'd' }
        $sp = if ($Cpu.Bitness -eq 64) { 'rsp' } else { 'esp' }
        $size = if ($Cpu.Bitness -eq 64) { 'qword' } else { 'dword' }
        $bx = if ($Cpu.Bitness -eq 64) { 'rbx' } else { 'ebx' }
        $asm = @()
        if ($Tf) { $asm += "pushf$w", "or $size ptr [$sp], 0x100", "popf$w" }
        $asm += $Body
        $asm += "pushf$w", "pop $bx", "pushf$w", "and $size ptr [$sp], -257", "popf$w"
        $r = $Cpu | Invoke-EmuCode -Assembly $asm -MaxInstructions 300000
        $m = $Cpu.Machine
        [pscustomobject]@{
            Run = $r
            Traps = $m.Memory.ReadUInt32($m.UserDataArea + 0x200)
            HandlerFlags = $m.Memory.ReadUInt32($m.UserDataArea + 0x204)
            FlagsAfter = $r.After.Bx
        }
    }

    function Assert-SurvivedWithTf($Out) {
        $Out.Run.Outcome | Should -Be 'ran to the end of the code'
        $Out.Run.Oops | Should -BeNullOrEmpty
        $Out.Traps | Should -BeGreaterThan 0 -Because '[FAIL] No SIGTRAP'
        ($Out.FlagsAfter -band $TF) | Should -Be $TF -Because '[FAIL] TF was cleared'
        ($Out.HandlerFlags -band $TF) | Should -Be 0 -Because '[WARN] SIGTRAP handler had TF set'
    }
}

Describe 'single_step_syscall' {
    Context '<Name>' -ForEach $Cases {
        BeforeAll {
            $case = @{ Kernel = $Kernel; Vendor = $Vendor; KernelBits = $KernelBits; Bitness = $Bitness }
            $fast = if ($Bitness -eq 64) { 'mov eax, 39', 'syscall' } else { 'mov eax, 20', "call {0}" }
        }

        It '[RUN] Set TF and check nop: [OK] Survived with TF set' {
            Assert-SurvivedWithTf (Invoke-Stepped (New-SteppingCpu $case) 'nop' -Tf)
        }

        # 64-bit build only.
        It '[RUN] Set TF and check syscall-less opportunistic sysret: [OK] Survived with TF set' -AllowNullOrEmptyForEach -ForEach @(if ($Bitness -eq 64) { @{ Only64 = $true } }) {
            Assert-SurvivedWithTf (Invoke-Stepped (New-SteppingCpu $case) @(
                    # rcx = post_nop (call/pop finds our own address: pop 1 + add 4 + pushfq 1 + pop r11 2 + nop 1 = 9)
                    'call here', 'here: pop rcx', 'add rcx, 9', 'pushfq', 'pop r11', 'nop') -Tf)
        }

        It '[RUN] Set TF and check int80: [OK] Survived with TF set' {
            # getpid is 20 in the i386 table, which int $0x80 uses in both builds.
            $out = Invoke-Stepped (New-SteppingCpu $case) 'mov eax, 20', 'int 0x80' -Tf
            Assert-SurvivedWithTf $out
            $out.Run.After.Ax | Should -Be $TaskPid
        }

        It '[RUN] Set TF and check a fast syscall: [OK] Survived with TF set' {
            $cpu = New-SteppingCpu $case
            $out = Invoke-Stepped $cpu ($fast -replace '\{0\}', $cpu.Machine.KernelVsyscall) -Tf
            Assert-SurvivedWithTf $out
            $out.Run.After.Ax | Should -Be $TaskPid -Because 'the syscall still worked'
        }

        It '[RUN] Fast syscall with TF cleared: [OK] Nothing unexpected happened' {
            $cpu = New-SteppingCpu $case
            # First a stepped fast syscall (as in the selftest), then one without TF on the same task.
            $null = Invoke-Stepped $cpu ($fast -replace '\{0\}', $cpu.Machine.KernelVsyscall) -Tf
            $cpu.Machine.Memory.WriteUInt32($cpu.Machine.UserDataArea + 0x200, 0)
            $out = Invoke-Stepped $cpu ($fast -replace '\{0\}', $cpu.Machine.KernelVsyscall)
            $out.Run.Outcome | Should -Be 'ran to the end of the code'
            ($out.FlagsAfter -band $TF) | Should -Be 0 -Because '[FAIL] TF is now set'
            $out.Traps | Should -Be 0 -Because '[FAIL] Got SIGTRAP'
        }

        It '[RUN] Set TF and check SYSENTER: the signal''s frame still has TF, and a later fast syscall does not bring TF back' {
            # sigaltstack(); SIGSEGV and SIGILL go to print_and_longjmp() on it (SP is 0 after the forced SYSENTER). Here
            # the handler records the signal and the frame's flags, then does what siglongjmp() does: it resumes at
            # "resume" with the saved SP, the caller's CS/SS and TF clear. There a fast syscall runs with TF clear.
            $cpu = New-SteppingCpu $case
            $m = $cpu.Machine
            $d = $m.UserDataArea; $handler = $m.UserText + 0x500
            if ($Bitness -eq 64) {
                $m.Memory.WriteBytes($d + 0x40, [byte[]]([BitConverter]::GetBytes([ulong]($d + 0x1000)) + [byte[]]::new(8) + [BitConverter]::GetBytes([ulong]0x2000)))
                $null = Write-UserCode $cpu $handler "mov [$($d + 0x300)], edi", "mov rax, [rdx+$(40 + 136)]", "mov [$($d + 0x308)], rax",
                    "mov rax, [$($d + 0x318)]", "mov [rdx+$(40 + 128)], rax", "mov rax, [$($d + 0x310)]", "mov [rdx+$(40 + 120)], rax",
                    "and qword ptr [rdx+$(40 + 136)], -257", "mov word ptr [rdx+$(40 + 144)], 0x33", "mov word ptr [rdx+$(40 + 150)], 0x2b", 'ret'
                $asm = @("mov edi, $($d + 0x40)", 'xor esi, esi', 'mov eax, 131', 'syscall', "mov [$($d + 0x310)], rsp", "mov rax, resume_at", "mov [$($d + 0x318)], rax",
                    'pushfq', 'or qword ptr [rsp], 0x100', 'popfq', 'mov eax, 39', 'xor ebp, ebp', 'sysenter',
                    'resume:', "mov dword ptr [$($d + 0x200)], 0", 'mov eax, 39', 'syscall', 'pushfq', 'pop rbx')
            } else {
                $m.Memory.WriteBytes($d + 0x40, [byte[]]([BitConverter]::GetBytes([uint]($d + 0x1000)) + [byte[]]::new(4) + [BitConverter]::GetBytes([uint]0x2000)))
                $null = Write-UserCode $cpu $handler 'mov eax, [esp+4]', "mov [$($d + 0x300)], eax", 'mov edx, [esp+12]', "mov eax, [edx+$(20 + 64)]", "mov [$($d + 0x308)], eax",
                    "mov eax, [$($d + 0x318)]", "mov [edx+$(20 + 56)], eax", "mov eax, [$($d + 0x310)]", "mov [edx+$(20 + 28)], eax",
                    "and dword ptr [edx+$(20 + 64)], -257", 'ret'
                $asm = @("mov ebx, $($d + 0x40)", 'xor ecx, ecx', 'mov eax, 186', 'int 0x80', "mov [$($d + 0x310)], esp", "mov dword ptr [$($d + 0x318)], resume_at",
                    'pushfd', 'or dword ptr [esp], 0x100', 'popfd', 'mov eax, 20', 'xor ebp, ebp', 'sysenter',
                    'resume:', "mov dword ptr [$($d + 0x200)], 0", 'mov eax, 20', "call $($m.KernelVsyscall)", 'pushfd', 'pop ebx')
            }
            foreach ($s in $SIGSEGV, $SIGILL) { Set-SignalHandler $cpu $s $handler ($SA_SIGINFO -bor $SA_ONSTACK) }
            # The code stores the absolute address of "resume": assemble the part before it once (with a same-size
            # placeholder) to find it.
            $head = @($asm | Select-Object -First ([array]::IndexOf($asm, 'resume:'))) -replace 'resume_at', '0x7fffffff'
            $probe = [SyscallTools.Core.Assembly.IntelSyntax]::Assemble([string[]]$head, $Bitness, $m.UserCodeAddress)
            $asm = $asm -replace 'resume_at', ($m.UserCodeAddress + $probe.Length)
            $r = $cpu | Invoke-EmuCode -Assembly $asm -MaxInstructions 300000
            $r.Oops | Should -BeNullOrEmpty
            $r.Outcome | Should -Be 'ran to the end of the code' -Because 'the handler "longjmp"ed back and the program went on'
            # SYSENTER is #UD on AMD in long mode (64-bit kernels); elsewhere it enters, and the return faults.
            $expected = if ($Vendor -eq 'AMD' -and $KernelBits -eq 64) { $SIGILL } else { $SIGSEGV }
            $m.Memory.ReadUInt32($d + 0x300) | Should -Be $expected
            $frameFlags = $m.Memory.ReadUInt32($d + 0x308)
            if ($Kernel -in 'linux-4.2', 'linux-4.4' -and $expected -eq $SIGSEGV) {
                # 4.2/4.4: the entry's #DB cleared TF (TIF_SINGLESTEP) and only syscall_trace_enter put it back; the
                # failed arg-6 fetch returns -EFAULT through IRET without the entry work, so the frame has no TF.
                ($frameFlags -band $TF) | Should -Be 0
            } else {
                ($frameFlags -band $TF) | Should -Be $TF -Because '[FAIL] TF was cleared'
            }
            # "[RUN] Fast syscall with TF cleared" (sig_traps = 0 first): no SIGTRAP, TF stays clear, and the call worked.
            $m.Memory.ReadUInt32($d + 0x200) | Should -Be 0 -Because '[FAIL] Got SIGTRAP'
            ($r.After.Bx -band $TF) | Should -Be 0 -Because '[FAIL] TF is now set'
            $r.After.Ax | Should -Be $TaskPid
        }
    }
}
