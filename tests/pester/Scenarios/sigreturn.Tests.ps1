# sigreturn (tools/testing/selftests/x86/sigreturn.c @ 2cc2c3cb; both bitnesses): "the main test of the IRET exit
# path". raise(SIGUSR1); the handler rewrites the saved CS and SS, sets IP to an `int3` trampoline that first copies
# SS to ECX ("mov %ss,%ecx; int3"), SP to 0x8badf00d5aadc0de (0x5aadc0de in the 32-bit build) and CX to 0, and
# returns through sigreturn.
#  * test_valid_sigreturn: at the trampoline every register must equal the requested one, except IP and TRAPNO; for a
#    non-64-bit CS only SP's low 32 bits; CS and SS must match and ECX == SS: "[OK] all registers okay". In the 64-bit
#    build validate_signal_ss() checks UC_SIGCONTEXT_SS is set, UC_STRICT_RESTORE_SS is set iff the signal came from
#    64-bit code, and the hardware SS equals the saved SS.
#  * test_bad_iret: a saved SS that IRET refuses must give SIGSEGV, SIGBUS or SIGILL ("[OK] Got #GP(...)"), never a
#    kernel crash (CVE-2014-8133/8134/9322).
#  * test_nonstrict_ss (64-bit): clear UC_STRICT_RESTORE_SS and set SS = 0; sigreturn must quietly fix SS.
#
# Only what the model has is run:
# * There is no LDT (modify_ldt) in the model, so every 16-bit CS/SS case, npcode32 and npdata32 are not run. The
#   selftest's "nonexistent LDT selector" SS is replaced by an all-zero GDT entry (0x3b on a 64-bit kernel, 0x0b on a
#   32-bit one: both unused in Linux's GDT), which IRET refuses with #GP the same way.
# * There is no sigaltstack (SA_ONSTACK is ignored) and with SP = 0x8badf00d... the SIGTRAP from the trampoline cannot
#   get a frame: no SIGTRAP handler is installed, the task is killed by SIGTRAP, and the registers it was killed with
#   (pt_regs at delivery: the frame the selftest's sigtrap() would read) are the "resulting" registers. The requested
#   ones are read back from the SIGUSR1 frame after the handler edited it.
# * test_bad_iret installs no SIGSEGV handler and checks the task dies of the signal without an oops, and that the
#   fault was a #GP on the IRET. A 64-bit kernel's exception entry runs fixup_bad_iret (the user frame at the top of
#   the stack, then a user-mode #GP: SIGSEGV); a 32-bit kernel's goes to iret_exc/do_iret_error (SIGILL, trapno 32,
#   X86_TRAP_IRET). Both are accepted by the selftest.
# * Model gap: the 32-bit build's handler also sets DS = ES = 0; the model's sigreturn does not reload DS/ES (nor FS/GS)
#   from the sigcontext and the result has no DS/ES, so that part is neither written nor checked.
# * Model gap, linux-4.2/4.4 64-bit build: before UC_SIGCONTEXT_SS (added in 4.6, from memory) the 64-bit sigcontext
#   had no SS: the kernel neither set the flag nor restored SS (the selftest FAILs there). The model gives every kernel
#   the 4.6+ behaviour. The valid cases with SS = __USER_DS agree either way and run; the flag check and the bad-SS
#   cases are skipped there with the reason.
# * Model gap, linux-6.18: sigreturn's force_valid_ss() (!UC_STRICT_RESTORE_SS and a 64-bit CS: an unusable SS becomes
#   __USER_DS) is not modelled; test_nonstrict_ss is skipped with the reason.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'ScenarioHelpers.ps1')
    $valid = [System.Collections.Generic.List[hashtable]]::new()
    $bad = [System.Collections.Generic.List[hashtable]]::new()
    foreach ($c in Get-ScenarioMatrix) {
        if ($c.KernelBits -eq 64) {
            # find_cs(): my_cs and my_cs +/- 0x10 give the 64-bit (0x33) and 32-bit (0x23) GDT code segments.
            $myCs = if ($c.Bitness -eq 64) { 0x33 } else { 0x23 }
            foreach ($cs in @(@{ Bits = 64; Cs = 0x33 }, @{ Bits = 32; Cs = 0x23 })) { $valid.Add($c + $cs + @{ Ss = 0x2b }) }
            foreach ($cs in @(@{ Bits = 64; Cs = 0x33 }, @{ Bits = 32; Cs = 0x23 })) {
                $bad.Add($c + $cs + @{ Ss = $myCs; Why = 'SS is a code segment (my_cs): #GP(SS)' })
                $bad.Add($c + $cs + @{ Ss = 0x3b; Why = 'SS is an empty descriptor: #GP' })
            }
        } else {
            # "[SKIP] Code segment unavailable for 64-bit CS" on a 32-bit kernel.
            $valid.Add($c + @{ Bits = 32; Cs = 0x73; Ss = 0x7b })
            $bad.Add($c + @{ Bits = 32; Cs = 0x73; Ss = 0x73; Why = 'SS is a code segment (my_cs): #GP(SS)' })
            $bad.Add($c + @{ Bits = 32; Cs = 0x73; Ss = 0x0b; Why = 'SS is an empty descriptor: #GP' })
        }
    }
    $script:Valid = @($valid); $script:Bad = @($bad)
    $script:Nonstrict = @(Get-ScenarioMatrix -Bitness 64 -KernelBits 64 -Kernel 'linux-6.18')
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../../SyscallTools.psd1') -Force
    . (Join-Path $PSScriptRoot 'ScenarioHelpers.ps1')

    # struct sigcontext offsets (arch/x86/include/uapi/asm/sigcontext.h) and where uc_mcontext sits in the rt frame:
    # 64-bit: pretcode (8), then ucontext {flags 8, link 8, stack 24, mcontext}; ia32: pretcode, sig, pinfo, puc,
    # siginfo (128), then ucontext {flags 4, link 4, stack 12, mcontext}.
    $script:Sc64 = [ordered]@{ r8 = 0; r9 = 8; r10 = 16; r11 = 24; r12 = 32; r13 = 40; r14 = 48; r15 = 56; di = 64; si = 72; bp = 80; bx = 88; dx = 96; ax = 104; cx = 112; sp = 120; ip = 128; flags = 136; cs = 144; ss = 150 }
    $script:Sc32 = [ordered]@{ di = 16; si = 20; bp = 24; sp = 28; bx = 32; dx = 36; cx = 40; ax = 44; ip = 56; cs = 60; flags = 64; ss = 72 }
    $script:Mc64 = 8 + 40; $script:Mc32 = 16 + 128 + 20

    # raise(SIGUSR1) with a handler that stores uc_flags and the hardware SS, then rewrites CS, SS, IP, SP and CX.
    function Invoke-Sigreturn([hashtable] $Case, [ulong] $Cs, [ulong] $Ss, [ulong] $TrampolineOffset = 0x1000, [string[]] $Extra = @()) {
        $cpu = New-ScenarioCpu $Case
        $m = $cpu.Machine
        $data = $m.UserDataArea; $handler = $m.UserText + 0x100; $tramp = $m.UserText + $TrampolineOffset
        $null = Write-UserCode $cpu $tramp 'mov ecx, ss', 'int3'           # the int3 trampoline
        if ($Case.Bitness -eq 64) {
            $null = Write-UserCode $cpu $handler (@(
                    'mov rax, [rdx]', "mov [$data], rax", 'mov eax, ss', "mov [$($data + 8)], eax",
                    "mov word ptr [rdx+$(40 + $Sc64.cs)], $Cs", "mov word ptr [rdx+$(40 + $Sc64.ss)], $Ss",
                    "mov rax, $tramp", "mov [rdx+$(40 + $Sc64.ip)], rax",
                    'mov rax, 0x8badf00d5aadc0de', "mov [rdx+$(40 + $Sc64.sp)], rax",
                    "mov qword ptr [rdx+$(40 + $Sc64.cx)], 0") + $Extra + 'ret')
            $raise = "mov edi, $TaskPid", "mov esi, $TaskPid", "mov edx, $SIGUSR1", 'mov eax, 234', 'syscall'   # tgkill
        } else {
            $null = Write-UserCode $cpu $handler (@(
                    'mov edx, [esp+12]',
                    "mov dword ptr [edx+$(20 + $Sc32.cs)], $Cs", "mov dword ptr [edx+$(20 + $Sc32.ss)], $Ss",
                    "mov dword ptr [edx+$(20 + $Sc32.ip)], $tramp",
                    "mov dword ptr [edx+$(20 + $Sc32.sp)], 0x5aadc0de",
                    "mov dword ptr [edx+$(20 + $Sc32.cx)], 0") + $Extra + 'ret')
            $raise = "mov ebx, $TaskPid", "mov ecx, $SIGUSR1", 'mov eax, 37', 'int 0x80'                     # kill
        }
        Set-SignalHandler $cpu $SIGUSR1 $handler $SA_SIGINFO
        # Some recognisable values in the other registers, so that "every register" means something.
        $fill = if ($Case.Bitness -eq 64) { 'mov rbx, 0x1111', 'mov rbp, 0x2222', 'mov r12, 0x1212', 'mov r13, 0x1313', 'mov r14, 0x1414', 'mov r15, 0x1515' }
                else { 'mov ebp, 0x2222' }
        $r = $cpu | Invoke-EmuCode -Assembly (@($fill) + $raise) -MaxInstructions 100000
        # requested_regs: the SIGUSR1 frame as the handler left it.
        $frame = $m.LastSignalFrame
        $requested = [ordered]@{}
        if ($Case.Bitness -eq 64) {
            foreach ($k in $Sc64.Keys) {
                $at = $frame + $Mc64 + $Sc64[$k]
                $requested[$k] = if ($k -in 'cs', 'ss') { [ulong]$m.Memory.ReadBytes($at, 2)[0] + 256 * [ulong]$m.Memory.ReadBytes($at + 1, 1)[0] } else { $m.Memory.ReadUInt64($at) }
            }
        } else {
            foreach ($k in $Sc32.Keys) { $requested[$k] = [ulong]($m.Memory.ReadUInt32($frame + $Mc32 + $Sc32[$k]) -band $(if ($k -in 'cs', 'ss') { 0xFFFF } else { [uint32]::MaxValue })) }
        }
        [pscustomobject]@{
            Run = $r; Requested = $requested; Resulting = $r.After.ByName()
            UcFlags = $m.Memory.ReadUInt64($data); HwSs = $m.Memory.ReadUInt32($data + 8)
            Sigreturn = @($r.KernelEntries | Where-Object { $_.Number -in 15, 173 })[-1]
        }
    }
}

Describe 'sigreturn' {
    Context '[RUN] Valid sigreturn: <Bits>-bit CS (<Cs>), 32-bit SS (<Ss>, GDT) (<Name>)' -ForEach $Valid {
        BeforeAll {
            $out = Invoke-Sigreturn $_ $Cs $Ss
        }

        It 'the trampoline ran and raised SIGTRAP, and nothing crashed' {
            $out.Run.Oops | Should -BeNullOrEmpty
            $out.Run.Signal | Should -Be 'SIGTRAP'
        }

        It '[OK] all registers okay' {
            $res = $out.Resulting
            $req = $out.Requested
            # The asm copies SS to CX before the int3.
            $res['cx'] | Should -Be $req['ss'] -Because 'CX (saved SP) mismatch'
            $res['cs'] | Should -Be $req['cs'] -Because 'CS mismatch'
            $res['ss'] | Should -Be $req['ss'] -Because 'SS mismatch'
            if ($Bits -eq 64) { $res['sp'] | Should -Be $req['sp'] -Because 'SP mismatch' }
            else { Get-Low32 $res['sp'] | Should -Be (Get-Low32 $req['sp']) -Because 'SP mismatch (low 32 bits)' }
            foreach ($k in $req.Keys) {
                if ($k -in 'ip', 'cx', 'cs', 'ss', 'sp') { continue }
                $res[$k] | Should -Be $req[$k] -Because "Reg $k mismatch"
            }
        }

        It 'validate_signal_ss: UC_SIGCONTEXT_SS set, UC_STRICT_RESTORE_SS set (raised from 64-bit code), HW SS == saved SS' -AllowNullOrEmptyForEach -ForEach @(if ($Bitness -eq 64) { @{ Build64 = $true } }) {
            if ($Kernel -ne 'linux-6.18') {
                Set-ItResult -Skipped -Because 'model gap: before 4.6 the 64-bit sigcontext had no SS and UC_SIGCONTEXT_SS was never set; the model gives every kernel the 4.6+ flags'
                return
            }
            ($out.UcFlags -band 0x2) | Should -Be 0x2 -Because 'UC_SIGCONTEXT_SS was not set'
            ($out.UcFlags -band 0x4) | Should -Be 0x4 -Because 'UC_STRICT_RESTORE_SS was wrong'
            $out.HwSs | Should -Be 0x2b -Because "HW SS didn't match saved SS"
        }
    }

    Context '[RUN] <Bits>-bit CS (<Cs>), bogus SS (<Ss>): <Why> (<Name>)' -ForEach $Bad {
        It '[OK] Got #GP (SIGSEGV, SIGBUS or SIGILL), and no kernel crash' {
            if ($Bitness -eq 64 -and $Kernel -ne 'linux-6.18') {
                Set-ItResult -Skipped -Because 'model gap: before 4.6 a 64-bit sigreturn did not restore SS (the real kernel returns with __USER_DS and the selftest FAILs "Did not get SIGSEGV"); the model restores it'
                return
            }
            $out = Invoke-Sigreturn $_ $Cs $Ss
            $out.Run.Oops | Should -BeNullOrEmpty -Because 'the kernel must survive a bad IRET'
            $out.Run.Signal | Should -BeIn 'SIGSEGV', 'SIGBUS', 'SIGILL'
            $out.Run.TaskExited | Should -BeTrue
            $out.Sigreturn.CFunctions | Should -Contain 'exc_handler(#GP)'
            if ($KernelBits -eq 32) {
                $out.Sigreturn.CFunctions | Should -Contain 'do_iret_error'
                $out.Run.Signal | Should -Be 'SIGILL' -Because 'do_iret_error raises SIGILL on a 32-bit kernel'
            }
            else {
                $out.Sigreturn.CFunctions | Should -Contain 'fixup_bad_iret'
            }
        }
    }

    Context '[RUN] Clear UC_STRICT_RESTORE_SS and corrupt SS (<Name>)' -ForEach $Nonstrict {
        It '[OK] It worked' {
            Set-ItResult -Skipped -Because 'model gap: sigreturn''s force_valid_ss() (no UC_STRICT_RESTORE_SS, 64-bit CS: an unusable SS becomes __USER_DS) is not modelled; the model IRETs with SS = 3 and the task gets SIGSEGV'
            return
            # sigusr2(): uc_flags &= ~UC_STRICT_RESTORE_SS; SS = 0; return. The kernel must recover without a signal.
            $cpu = New-ScenarioCpu $_
            $handler = $cpu.Machine.UserText + 0x100
            $null = Write-UserCode $cpu $handler 'and qword ptr [rdx], -5', "mov word ptr [rdx+$(40 + $Sc64.ss)], 0", 'ret'
            Set-SignalHandler $cpu $SIGUSR2 $handler $SA_SIGINFO
            $r = $cpu | Invoke-EmuCode -Assembly "mov edi, $TaskPid", "mov esi, $TaskPid", "mov edx, $SIGUSR2", 'mov eax, 234', 'syscall'
            $r.Outcome | Should -Be 'ran to the end of the code'
            $r.After.Ss | Should -Be 0x2b
        }
    }
}
