# sigreturn (tools/testing/selftests/x86/sigreturn.c @ 2cc2c3cb; both bitnesses): "the main test of the IRET exit
# path". main() sets up a sigaltstack; raise(SIGUSR1); the SIGUSR1 handler saves the registers (initial_regs), rewrites
# the saved CS and SS, sets IP to an `int3` trampoline that first copies SS to ECX ("mov %ss,%ecx; int3"), SP to
# 0x8badf00d5aadc0de (0x5aadc0de in the 32-bit build) and CX to 0 — in the 32-bit build also DS = ES = 0 — saves the
# result (requested_regs) and returns through sigreturn. The SIGTRAP (or, for a failing IRET, SIGSEGV/SIGBUS/SIGILL)
# handler runs SA_ONSTACK, because SP is garbage: it saves its registers (resulting_regs), copies initial_regs back
# and returns, so that raise() returns.
#  * test_valid_sigreturn: every register in resulting_regs must equal requested_regs, except IP and TRAPNO; for a
#    non-64-bit CS only SP's low 32 bits; in the 64-bit build CS and SS of REG_CSGSFS; ECX (the asm's SS) == SS:
#    "[OK] all registers okay". validate_signal_ss() (64-bit build) in both handlers: UC_SIGCONTEXT_SS set,
#    UC_STRICT_RESTORE_SS set iff the signal came from 64-bit code, the hardware SS equal to a valid saved SS.
#  * test_bad_iret: a saved SS that IRET refuses must give SIGSEGV, SIGBUS or SIGILL to the handler ("[OK] Got
#    #GP(...)"), never a kernel crash (CVE-2014-8133/8134/9322).
#  * test_nonstrict_ss (64-bit build): clear UC_STRICT_RESTORE_SS and set SS = 0; sigreturn must quietly fix SS.
#  * The "nasty ABI case" (64-bit build): from a 32-bit CS, the SIGTRAP handler corrupts the SS it returns to 64-bit
#    code with; UC_STRICT_RESTORE_SS must be clear there, and the kernel must repair SS.
#
# What the kernel versions do differently (arch/x86/kernel/signal.c): before 4.6 the 64-bit sigcontext had no SS — the
# field was __pad0, never written; uc_flags had neither UC_SIGCONTEXT_SS nor UC_STRICT_RESTORE_SS; sigreturn restored
# CS only, "the bare minimum needed to allow mixed 32/64-bit code", so SS came back as the __USER_DS the rt_sigreturn
# entry pushed. The selftest itself notes "This happens on Linux 4.1" and FAILs there. On those kernels the 64-bit
# build's cases assert what the kernel source does instead: no flags, the pad left as the stack had it, SS = __USER_DS
# at the trampoline, no IRET fault for a bogus SS (the selftest's raise(SIGUSR1) then ends in the trampoline's SIGTRAP,
# which has no handler there: the task dies of it). A 32-bit build always restores SS (ia32 and 32-bit kernels).
# A failing IRET on a 32-bit kernel goes to iret_exc / do_iret_error: SIGILL, trapno 32 (X86_TRAP_IRET), error 0
# (traps.c); on a 64-bit kernel fixup_bad_iret makes it the user's #GP: SIGSEGV, trapno 13, error = the SS selector
# (SDM IRET: "#GP(SS selector)").
#
# LDT: setup_ldt()'s modify_ldt() segments are made as in the selftest, and its set_thread_area() attempts are refused
# (so the selftest's GDT data16 / npdata32 cases do not run, there or here). The CPU's IRET to a 16-bit SS loads only
# SP, so every return to data16 goes through espfix: espfix64 IRETs from an alias of its page whose bits 31:16 are the
# user's (RSP[63:32] then zeroed on Intel, the alias's on AMD), espfix32 from the ESPFIX_SS segment whose base makes
# ESP[31:16] the user's. A bad LDT SS faults on the espfix stack: #DF, then #GP(0), on 64-bit kernels; iret_exc on
# 32-bit ones. Run: the 16-bit CS (code16, based at the trampoline, IP 0) and the 16-bit SS (data16) with each CS
# bitness, ldt_nonexistent_sel and npdata32_sel as SS, npcode32 as CS. In addition, the "bogus SS" cases above use an
# all-zero GDT entry (0x3b on a 64-bit kernel, 0x0b on a 32-bit one: both unused in Linux's GDT), which IRET refuses
# with #GP(selector).
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'ScenarioHelpers.ps1')
    $valid = [System.Collections.Generic.List[hashtable]]::new()
    $bad = [System.Collections.Generic.List[hashtable]]::new()
    foreach ($c in Get-ScenarioMatrix) {
        # UC_SIGCONTEXT_SS and friends exist from 4.6: of the modelled kernels only linux-6.18.
        $c.SsInSigcontext = $c.Kernel -eq 'linux-6.18'
        if ($c.KernelBits -eq 64) {
            # find_cs(): my_cs and my_cs +/- 0x10 give the 64-bit (0x33) and 32-bit (0x23) GDT code segments.
            $myCs = if ($c.Bitness -eq 64) { 0x33 } else { 0x23 }
            foreach ($cs in @(@{ Bits = 64; Cs = 0x33 }, @{ Bits = 32; Cs = 0x23 })) { $valid.Add($c + $cs + @{ Ss = 0x2b }) }
            # find_cs(16) = code16_sel, the 16-bit LDT code segment setup_ldt() made.
            $valid.Add($c + @{ Bits = 16; Cs = 0x37; Ss = 0x2b; Ldt = $true })
            # "Test easy espfix cases: return to a 16-bit LDT SS in each possible CS bitness" (data16_sel = 0x3f).
            foreach ($cs in @(@{ Bits = 64; Cs = 0x33 }, @{ Bits = 32; Cs = 0x23 }, @{ Bits = 16; Cs = 0x37 })) {
                $valid.Add($c + $cs + @{ Ss = 0x3f; Ldt = $true })
            }
            foreach ($cs in @(@{ Bits = 64; Cs = 0x33 }, @{ Bits = 32; Cs = 0x23 }, @{ Bits = 16; Cs = 0x37; Ldt = $true })) {
                $bad.Add($c + $cs + @{ Ss = $myCs; Why = 'SS is a code segment (my_cs): #GP(SS)' })
                $bad.Add($c + $cs + @{ Ss = 0x3b; Why = 'SS is an empty descriptor: #GP(SS)' })
            }
        } else {
            # "[SKIP] Code segment unavailable for 64-bit CS" on a 32-bit kernel.
            $valid.Add($c + @{ Bits = 32; Cs = 0x73; Ss = 0x7b })
            $valid.Add($c + @{ Bits = 16; Cs = 0x37; Ss = 0x7b; Ldt = $true })
            # The espfix cases: data16 as SS with a 32-bit and the 16-bit CS.
            $valid.Add($c + @{ Bits = 32; Cs = 0x73; Ss = 0x3f; Ldt = $true })
            $valid.Add($c + @{ Bits = 16; Cs = 0x37; Ss = 0x3f; Ldt = $true })
            foreach ($cs in @(@{ Bits = 32; Cs = 0x73 }, @{ Bits = 16; Cs = 0x37; Ldt = $true })) {
                $bad.Add($c + $cs + @{ Ss = 0x73; Why = 'SS is a code segment (my_cs): #GP(SS)' })
                $bad.Add($c + $cs + @{ Ss = 0x0b; Why = 'SS is an empty descriptor: #GP(SS)' })
            }
        }
    }
    # The LDT segments of setup_ldt() (LDT_OFFSET 6): npcode32_sel = LDT3(9) = 0x4f, npdata32_sel = LDT3(10) = 0x57,
    # ldt_nonexistent_sel = LDT3(8) = 0x47 (inside the table, all zero).
    $ldtBad = [System.Collections.Generic.List[hashtable]]::new()
    foreach ($c in Get-ScenarioMatrix) {
        $c.SsInSigcontext = $c.Kernel -eq 'linux-6.18'
        $mySs = if ($c.KernelBits -eq 32) { 0x7b } else { 0x2b }
        $ldtBad.Add($c + @{ Bits = 32; Cs = 0x4f; Ss = $mySs; Why = 'a not-present code segment (npcode32): #NP(CS)' })
        # test_bad_iret(64/32/16, ldt_nonexistent_sel) and test_bad_iret(32, npdata32_sel).
        $csList = if ($c.KernelBits -eq 32) { @(@{ Bits = 32; Cs = 0x73 }, @{ Bits = 16; Cs = 0x37 }) }
                  else { @(@{ Bits = 64; Cs = 0x33 }, @{ Bits = 32; Cs = 0x23 }, @{ Bits = 16; Cs = 0x37 }) }
        foreach ($cs in $csList) { $ldtBad.Add($c + $cs + @{ Ss = 0x47; Why = 'SS is a nonexistent LDT selector: #GP' }) }
        $ldtBad.Add($c + @{ Bits = 32; Cs = $(if ($c.KernelBits -eq 32) { 0x73 } else { 0x23 }); Ss = 0x57; Why = 'SS is a not-present data segment (npdata32): #SS' })
    }
    $script:Valid = @($valid); $script:Bad = @($bad); $script:LdtBad = @($ldtBad)
    $script:Tls = @(Get-ScenarioMatrix)
    $script:Nonstrict = @(Get-ScenarioMatrix -Bitness 64 -KernelBits 64 | ForEach-Object { $_ + @{ SsInSigcontext = $_.Kernel -eq 'linux-6.18' } })
    # test_valid_sigreturn(32, false, -1) and (32, true, -1) with sig_corrupt_final_ss.
    $script:Corrupt = @(foreach ($c in Get-ScenarioMatrix -Bitness 64 -KernelBits 64 -Kernel 'linux-6.18') { $c + @{ Ss = 0x2b; SsBits = 32 }; $c + @{ Ss = 0x3f; SsBits = 16 } })
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../../SyscallTools.psd1') -Force
    . (Join-Path $PSScriptRoot 'ScenarioHelpers.ps1')

    # gregset_t as glibc lays it out (sys/ucontext.h): 23 x 8 bytes on x86-64, 19 x 4 on i386, the start of uc_mcontext
    # (the kernel's struct sigcontext). uc_mcontext sits after uc_flags, uc_link and uc_stack: 40 bytes in, 20 on i386.
    $script:Greg64 = @('r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'di', 'si', 'bp', 'bx', 'dx', 'ax', 'cx', 'sp', 'ip', 'flags', 'csgsfs', 'err', 'trapno', 'oldmask', 'cr2')
    $script:Greg32 = @('gs', 'fs', 'es', 'ds', 'di', 'si', 'bp', 'sp', 'bx', 'dx', 'cx', 'ax', 'trapno', 'err', 'ip', 'cs', 'flags', 'uesp', 'ss')
    $script:SIGSTKSZ = 0x2000

    # Data area: +0 uc_flags and +8 hardware SS in the SIGUSR1 handler; +0x10 signal, +0x18 uc_flags, +0x20 hardware
    # SS in the trap handler; +0x28 sigaltstack's result; +0x100 initial_regs, +0x200 requested_regs, +0x300
    # resulting_regs; +0x400 the stack_t; +0x1000 the alternate stack, filled with 0xA5 so unwritten bytes show.
    function Invoke-Sigreturn {
        param([hashtable] $Case, [ulong] $Cs, [ulong] $Ss, [int[]] $TrapSignals = @($SIGTRAP), [switch] $CorruptFinalSs,
              [string[]] $Usr1Extra = @(), [int] $Raise = $SIGUSR1, [switch] $Ldt, [switch] $Code16)
        $cpu = New-ScenarioCpu $Case
        $m = $cpu.Machine
        $is64 = $Case.Bitness -eq 64
        $data = $m.UserDataArea; $usr1 = $m.UserText + 0x100; $trap = $m.UserText + 0x400; $tramp = $m.UserText + 0x1000
        $n = if ($is64) { 23 * 8 } else { 19 * 4 }
        $alt = $data + 0x1000
        $m.Memory.WriteBytes($alt, [byte[]](, 0xA5 * $SIGSTKSZ))
        $stackT = if ($is64) { [BitConverter]::GetBytes([ulong]$alt) + [byte[]]::new(8) + [BitConverter]::GetBytes([ulong]$SIGSTKSZ) }
                  else { [BitConverter]::GetBytes([uint]$alt) + [byte[]]::new(4) + [BitConverter]::GetBytes([uint]$SIGSTKSZ) }
        $m.Memory.WriteBytes($data + 0x400, [byte[]]$stackT)
        $null = Write-UserCode $cpu $tramp 'mov ecx, ss', 'int3'
        # "sig_cs == code16_sel ? 0 : (unsigned long)&int3": code16's base is the trampoline.
        $ip = if ($Code16) { 0 } else { $tramp }
        # setup_ldt(): struct user_desc {entry_number, base_addr, limit, flags} at +0x500.. for code16, data16,
        # npcode32 and npdata32 (flags: seg_32bit 1, contents << 1, seg_not_present 0x20); results at +0x30...
        $ldtCode = @()
        if ($Ldt) {
            $stack16 = $data + 0x8000
            $descs = @(@(6, $tramp, 4095, 0x4), @(7, $stack16, 0xffff, 0x0), @(9, $tramp, 4095, 0x25), @(10, $stack16, 0xffff, 0x21))
            for ($i = 0; $i -lt 4; $i++) {
                $at = $data + 0x500 + 16 * $i
                $m.Memory.WriteBytes($at, [byte[]]($descs[$i] | ForEach-Object { [BitConverter]::GetBytes([uint]$_) }))
                $ldtCode += if ($is64) { 'mov edi, 1', "mov esi, $at", 'mov edx, 16', 'mov eax, 154', 'syscall', "mov [$($data + 0x30 + 4 * $i)], eax" }
                            else { 'mov ebx, 1', "mov ecx, $at", 'mov edx, 16', 'mov eax, 123', 'int 0x80', "mov [$($data + 0x30 + 4 * $i)], eax" }
            }
        }
        if ($is64) {
            $null = Write-UserCode $cpu $usr1 (@(
                    'mov rax, [rdx]', "mov [$data], rax", 'mov eax, ss', "mov [$($data + 8)], eax",
                    'lea rsi, [rdx+40]', "mov rdi, $($data + 0x100)", "mov ecx, $n", 'rep movsb',
                    "mov word ptr [rdx+$(40 + 144)], $Cs", "mov word ptr [rdx+$(40 + 150)], $Ss",
                    "mov rax, $ip", "mov [rdx+$(40 + 128)], rax",
                    'mov rax, 0x8badf00d5aadc0de', "mov [rdx+$(40 + 120)], rax",
                    "mov qword ptr [rdx+$(40 + 112)], 0") + $Usr1Extra + @(
                    'lea rsi, [rdx+40]', "mov rdi, $($data + 0x200)", "mov ecx, $n", 'rep movsb', 'ret'))
            $null = Write-UserCode $cpu $trap (@(
                    "mov [$($data + 0x10)], edi", 'mov rax, [rdx]', "mov [$($data + 0x18)], rax", 'mov eax, ss', "mov [$($data + 0x20)], eax",
                    'lea rsi, [rdx+40]', "mov rdi, $($data + 0x300)", "mov ecx, $n", 'rep movsb',
                    "mov rsi, $($data + 0x100)", 'lea rdi, [rdx+40]', "mov ecx, $n", 'rep movsb') +
                @(if ($CorruptFinalSs) { "mov word ptr [rdx+$(40 + 150)], 0" }) + 'ret')
            $main = $ldtCode + @("mov edi, $($data + 0x400)", 'xor esi, esi', 'mov eax, 131', 'syscall', "mov [$($data + 0x28)], eax",
                'mov rbx, 0x1111', 'mov rbp, 0x2222', 'mov r12, 0x1212', 'mov r13, 0x1313', 'mov r14, 0x1414', 'mov r15, 0x1515',
                "mov edi, $TaskPid", "mov esi, $TaskPid", "mov edx, $Raise", 'mov eax, 234', 'syscall')   # tgkill
        } else {
            $null = Write-UserCode $cpu $usr1 (@(
                    'mov edx, [esp+12]',
                    'lea esi, [edx+20]', "mov edi, $($data + 0x100)", "mov ecx, $n", 'rep movsb',
                    "mov dword ptr [edx+$(20 + 60)], $Cs", "mov dword ptr [edx+$(20 + 72)], $Ss",
                    "mov dword ptr [edx+$(20 + 56)], $ip", "mov dword ptr [edx+$(20 + 28)], 0x5aadc0de",
                    "mov dword ptr [edx+$(20 + 40)], 0",
                    # "Make sure the kernel doesn't inadvertently use DS or ES-relative accesses in a region where user
                    # DS or ES is loaded."
                    "mov dword ptr [edx+$(20 + 12)], 0", "mov dword ptr [edx+$(20 + 8)], 0") + $Usr1Extra + @(
                    'lea esi, [edx+20]', "mov edi, $($data + 0x200)", "mov ecx, $n", 'rep movsb', 'ret'))
            $null = Write-UserCode $cpu $trap @(
                'mov eax, [esp+4]', "mov [$($data + 0x10)], eax", 'mov edx, [esp+12]', 'mov eax, [edx]', "mov [$($data + 0x18)], eax",
                'mov eax, ss', "mov [$($data + 0x20)], eax",
                'lea esi, [edx+20]', "mov edi, $($data + 0x300)", "mov ecx, $n", 'rep movsb',
                "mov esi, $($data + 0x100)", 'lea edi, [edx+20]', "mov ecx, $n", 'rep movsb', 'ret')
            $main = $ldtCode + @("mov ebx, $($data + 0x400)", 'xor ecx, ecx', 'mov eax, 186', 'int 0x80', "mov [$($data + 0x28)], eax",
                'mov ebp, 0x2222', "mov ebx, $TaskPid", "mov ecx, $Raise", 'mov eax, 37', 'int 0x80')     # kill
        }
        Set-SignalHandler $cpu $Raise $usr1 $SA_SIGINFO
        foreach ($s in $TrapSignals) { Set-SignalHandler $cpu $s $trap ($SA_SIGINFO -bor $SA_ONSTACK) }
        $r = $cpu | Invoke-EmuCode -Assembly $main -MaxInstructions 200000
        function Read-Gregs([ulong] $At) {
            $g = [ordered]@{}
            for ($i = 0; $i -lt $(if ($is64) { 23 } else { 19 }); $i++) {
                $names = if ($is64) { $Greg64 } else { $Greg32 }
                $g[$names[$i]] = if ($is64) { $m.Memory.ReadUInt64($At + 8 * $i) } else { [ulong]$m.Memory.ReadUInt32($At + 4 * $i) }
            }
            $g
        }
        [pscustomobject]@{
            Run = $r; Machine = $m
            Initial = Read-Gregs ($data + 0x100); Requested = Read-Gregs ($data + 0x200); Resulting = Read-Gregs ($data + 0x300)
            UcFlags = $m.Memory.ReadUInt64($data); HwSs = $m.Memory.ReadUInt32($data + 8)
            Trapped = $m.Memory.ReadUInt32($data + 0x10); TrapUcFlags = $m.Memory.ReadUInt64($data + 0x18); TrapHwSs = $m.Memory.ReadUInt32($data + 0x20)
            Sigaltstack = ConvertTo-Int32 $m.Memory.ReadUInt32($data + 0x28)
            ModifyLdt = @(0..3 | ForEach-Object { ConvertTo-Int32 $m.Memory.ReadUInt32($data + 0x30 + 4 * $_) })
            Sigreturn = @($r.KernelEntries | Where-Object { $_.Number -in 15, 173 })[0]
        }
    }

    # The selector fields of the 64-bit REG_CSGSFS word: struct selectors { cs, gs, fs, ss }.
    function Get-Sel([ulong] $CsGsFs, [int] $Index) { ($CsGsFs -shr (16 * $Index)) -band 0xFFFF }
}

Describe 'sigreturn' {
    Context '[RUN] Valid sigreturn: <Bits>-bit CS (<Cs>), 32-bit SS (<Ss>, GDT) (<Name>)' -ForEach $Valid {
        BeforeAll {
            $out = Invoke-Sigreturn $_ $Cs $Ss -Ldt:($_.ContainsKey('Ldt')) -Code16:($Bits -eq 16)
        }

        It 'sigaltstack() succeeded, the trampoline trapped into the SA_ONSTACK SIGTRAP handler, and raise() returned' {
            $out.Sigaltstack | Should -Be 0
            $out.Run.Oops | Should -BeNullOrEmpty
            $out.Trapped | Should -Be $SIGTRAP
            $out.Run.Outcome | Should -Be 'ran to the end of the code'
        }

        It '[OK] all registers okay' -AllowNullOrEmptyForEach -ForEach @(if (-not ($Bitness -eq 64 -and -not $SsInSigcontext)) { @{ Applies = $true } }) {
            $req = $out.Requested; $res = $out.Resulting
            foreach ($k in $req.Keys) {
                if ($k -in 'trapno', 'ip', 'uesp') { continue }              # "don't care" (and REG_UESP on i386)
                if ($k -eq 'sp') {
                    if ($Bits -eq 64) { $res[$k] | Should -Be $req[$k] -Because 'SP mismatch' }
                    else { Get-Low32 $res[$k] | Should -Be (Get-Low32 $req[$k]) -Because 'SP mismatch (low 32 bits)' }
                    continue
                }
                if ($k -eq 'csgsfs') {
                    Get-Sel $res[$k] 0 | Should -Be (Get-Sel $req[$k] 0) -Because 'CS mismatch'
                    Get-Sel $res[$k] 3 | Should -Be (Get-Sel $req[$k] 3) -Because 'SS mismatch'
                    continue
                }
                # requested_regs[REG_CX] = *ssptr(ctx): "The asm code does this."
                $want = if ($k -eq 'cx') { if ($Bitness -eq 64) { Get-Sel $req['csgsfs'] 3 } else { $req['ss'] } } else { $req[$k] }
                $res[$k] | Should -Be $want -Because "Reg $k mismatch"
            }
        }

        It 'before 4.6 (no SS in the 64-bit sigcontext): CS and all other registers round-trip, SS comes back as __USER_DS, and the frame''s __pad0 is never written' -AllowNullOrEmptyForEach -ForEach @(if ($Bitness -eq 64 -and -not $SsInSigcontext) { @{ Applies = $true } }) {
            $req = $out.Requested; $res = $out.Resulting
            Get-Sel $res['csgsfs'] 0 | Should -Be (Get-Sel $req['csgsfs'] 0) -Because 'CS is restored ("COPY_SEG_CPL3(cs)")'
            $res['cx'] | Should -Be 0x2b -Because 'the trampoline ran with the SS the rt_sigreturn entry pushed, __USER_DS'
            # setup_sigcontext wrote gs = fs = 0 and left __pad0 as the (0xA5-filled) alternate stack had it.
            Get-Sel $res['csgsfs'] 1 | Should -Be 0
            Get-Sel $res['csgsfs'] 2 | Should -Be 0
            Get-Sel $res['csgsfs'] 3 | Should -Be 0xA5A5
            foreach ($k in 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'di', 'si', 'bp', 'bx', 'dx', 'ax', 'flags', 'err', 'oldmask', 'cr2') {
                $res[$k] | Should -Be $req[$k] -Because "Reg $k mismatch"
            }
            if ($Bits -eq 64) { $res['sp'] | Should -Be $req['sp'] } else { Get-Low32 $res['sp'] | Should -Be (Get-Low32 $req['sp']) }
        }

        It 'validate_signal_ss: UC_SIGCONTEXT_SS set, UC_STRICT_RESTORE_SS set iff the signal came from 64-bit code, HW SS == saved SS' -AllowNullOrEmptyForEach -ForEach @(if ($Bitness -eq 64 -and $SsInSigcontext) { @{ Applies = $true } }) {
            ($out.UcFlags -band 0x2) | Should -Be 0x2 -Because 'UC_SIGCONTEXT_SS was not set (SIGUSR1)'
            ($out.UcFlags -band 0x4) | Should -Be 0x4 -Because 'UC_STRICT_RESTORE_SS was wrong in signal 10 (raised from 64-bit code)'
            $out.HwSs | Should -Be 0x2b -Because "HW SS didn't match saved SS"
            ($out.TrapUcFlags -band 0x2) | Should -Be 0x2 -Because 'UC_SIGCONTEXT_SS was not set (SIGTRAP)'
            ($out.TrapUcFlags -band 0x4) | Should -Be $(if ($Bits -eq 64) { 0x4 } else { 0 }) -Because 'UC_STRICT_RESTORE_SS was wrong in signal 5'
            $out.TrapHwSs | Should -Be (Get-Sel $out.Resulting['csgsfs'] 3) -Because "HW SS didn't match saved SS"
        }

        It 'before 4.6: uc_flags carries neither UC_SIGCONTEXT_SS nor UC_STRICT_RESTORE_SS (the selftest''s "[FAIL] UC_SIGCONTEXT_SS was not set")' -AllowNullOrEmptyForEach -ForEach @(if ($Bitness -eq 64 -and -not $SsInSigcontext) { @{ Applies = $true } }) {
            ($out.UcFlags -band 0x6) | Should -Be 0
            ($out.TrapUcFlags -band 0x6) | Should -Be 0
            $out.HwSs | Should -Be 0x2b
        }
    }

    Context '[RUN] <Bits>-bit CS (<Cs>), bogus SS (<Ss>): <Why> (<Name>)' -ForEach $Bad {
        BeforeAll {
            # clearhandler(SIGTRAP); SIGSEGV, SIGBUS and SIGILL ("32-bit kernels do this") go to the SA_ONSTACK handler.
            $out = Invoke-Sigreturn $_ $Cs $Ss -TrapSignals $SIGSEGV, $SIGBUS, $SIGILL -Ldt:($_.ContainsKey('Ldt')) -Code16:($Bits -eq 16)
        }

        It '[OK] Got #GP (SIGSEGV, SIGBUS or SIGILL in the handler), and no kernel crash' -AllowNullOrEmptyForEach -ForEach @(if (-not ($Bitness -eq 64 -and -not $SsInSigcontext)) { @{ Applies = $true } }) {
            $out.Run.Oops | Should -BeNullOrEmpty -Because 'the kernel must survive a bad IRET'
            $out.Trapped | Should -BeIn $SIGSEGV, $SIGBUS, $SIGILL
            $out.Run.Outcome | Should -Be 'ran to the end of the code' -Because 'the handler restored initial_regs and raise() returned'
        }

        It 'the fault is the one the kernel reports: a 64-bit kernel''s fixup_bad_iret gives #GP(SS selector); a 32-bit kernel''s iret_exc gives SIGILL with trapno 32, error 0' -AllowNullOrEmptyForEach -ForEach @(if (-not ($Bitness -eq 64 -and -not $SsInSigcontext)) { @{ Applies = $true } }) {
            $res = $out.Resulting
            if ($KernelBits -eq 64) {
                $out.Trapped | Should -Be $SIGSEGV
                $res['trapno'] | Should -Be 13
                $res['err'] | Should -Be ($Ss -band 0xFFFC)
                $out.Sigreturn.CFunctions | Should -Contain 'fixup_bad_iret'
            } else {
                $out.Trapped | Should -Be $SIGILL
                $res['trapno'] | Should -Be 32
                $res['err'] | Should -Be 0
                $out.Sigreturn.CFunctions | Should -Contain 'do_iret_error'
            }
        }

        It 'the handler''s sigcontext shows the state IRET refused: the requested CS, SS and IP' -AllowNullOrEmptyForEach -ForEach @(if (-not ($Bitness -eq 64 -and -not $SsInSigcontext)) { @{ Applies = $true } }) {
            $req = $out.Requested; $res = $out.Resulting
            if ($Bitness -eq 64) {
                Get-Sel $res['csgsfs'] 0 | Should -Be (Get-Sel $req['csgsfs'] 0)
                Get-Sel $res['csgsfs'] 3 | Should -Be (Get-Sel $req['csgsfs'] 3)
            } else {
                $res['cs'] | Should -Be $req['cs']
                $res['ss'] | Should -Be $req['ss']
            }
            $res['ip'] | Should -Be $req['ip']
        }

        It 'before 4.6 a 64-bit sigreturn ignores the SS slot: no IRET fault, the trampoline runs with __USER_DS and its SIGTRAP (no handler) kills the task' -AllowNullOrEmptyForEach -ForEach @(if ($Bitness -eq 64 -and -not $SsInSigcontext) { @{ Applies = $true } }) {
            $out.Run.Oops | Should -BeNullOrEmpty
            $out.Trapped | Should -Be 0
            $out.Run.Signal | Should -Be 'SIGTRAP'
            $out.Run.TaskExited | Should -BeTrue
            $out.Run.After.Cx | Should -Be 0x2b
            $out.Run.After.Ss | Should -Be 0x2b
            $out.Sigreturn.CFunctions | Should -Not -Contain 'fixup_bad_iret'
        }
    }

    Context '[RUN] <Bits>-bit CS (<Cs>), SS (<Ss>), LDT: <Why> (<Name>)' -ForEach $LdtBad {
        BeforeAll {
            $out = Invoke-Sigreturn $_ $Cs $Ss -TrapSignals $SIGSEGV, $SIGBUS, $SIGILL -Ldt -Code16:($Bits -eq 16)
            # Before 4.6 a 64-bit sigreturn does not restore SS at all (see the header).
            $ssIgnored = $Bitness -eq 64 -and -not $SsInSigcontext -and $Cs -ne 0x4f
        }

        It 'modify_ldt(1, ...) installed the four segments' {
            $out.ModifyLdt | Should -Be @(0, 0, 0, 0)
        }

        It '[OK] Got the fault this kernel reports, and no kernel crash' -AllowNullOrEmptyForEach -ForEach @(if (-not ($Bitness -eq 64 -and -not $SsInSigcontext -and $Cs -ne 0x4f)) { @{ Applies = $true } }) {
            $out.Run.Oops | Should -BeNullOrEmpty
            $out.Run.Outcome | Should -Be 'ran to the end of the code'
            $res = $out.Resulting
            if ($KernelBits -eq 32) {
                # Every IRET fault on a 32-bit kernel ends in iret_exc / do_iret_error: "Got #IRET(0x0)".
                $out.Trapped | Should -Be $SIGILL
                $res['trapno'] | Should -Be 32
                $res['err'] | Should -Be 0
            } elseif ($Cs -eq 0x4f) {
                # SS is in the GDT, so no espfix: fixup_bad_iret makes IRET's #NP(selector) the user's, and traps.c sends
                # SIGBUS for #NP. The error code is the selector with RPL replaced by EXT/IDT (0), TI (LDT) kept: 0x4c.
                $out.Trapped | Should -Be $SIGBUS
                $res['trapno'] | Should -Be 11
                $res['err'] | Should -Be 0x4c
            } else {
                # An LDT SS returns through espfix64: IRET faults on the read-only espfix stack, the fault becomes #DF,
                # and do_double_fault() turns it into #GP(0) — "64-bit Linux will lose track of the actual cause of
                # failure and report #GP(0) instead".
                $out.Trapped | Should -Be $SIGSEGV
                $res['trapno'] | Should -Be 13
                $res['err'] | Should -Be 0
                $out.Sigreturn.CFunctions | Should -Contain 'do_double_fault: espfix64 IRET fault -> #GP(0)'
            }
        }

        It 'before 4.6 the 64-bit sigreturn ignores the SS slot: the trampoline runs with __USER_DS and its SIGTRAP kills the task' -AllowNullOrEmptyForEach -ForEach @(if ($Bitness -eq 64 -and -not $SsInSigcontext -and $Cs -ne 0x4f) { @{ Applies = $true } }) {
            $out.Run.Oops | Should -BeNullOrEmpty
            $out.Trapped | Should -Be 0
            $out.Run.Signal | Should -Be 'SIGTRAP'
            $out.Run.After.Ss | Should -Be 0x2b
        }
    }

    Context 'setup_ldt(): set_thread_area with 16-bit data and with not-present 32-bit data (<Name>)' -ForEach $Tls {
        BeforeAll {
            # gdt_data16_desc and gdt_npdata32_desc: entry -1, base stack16, limit 0xffff; seg_32bit 0, or 1 with
            # seg_not_present. SYS_set_thread_area is 243 on i386 and 205 on x86-64.
            $cpu = New-ScenarioCpu $_
            $m = $cpu.Machine
            $d = $m.UserDataArea
            $results = foreach ($flags in 0x0, 0x21) {
                $m.Memory.WriteBytes($d, [byte[]](@(-1, ($d + 0x8000), 0xffff, $flags) | ForEach-Object { [BitConverter]::GetBytes([int]$_) }))
                $r = $m.InvokeSyscall($(if ($Bitness -eq 64) { 205 } else { 243 }), [ulong[]]@($d))
                $r.Return
            }
        }

        It '[OK] set_thread_area refused 16-bit data, and the not-present one too ("newer kernels don''t allow this"): -EINVAL' {
            # tls_desc_okay() since 3.19: "espfix is required for 16-bit data segments, but espfix only works for LDT
            # segments"; not-present TLS segments "present an interesting attack surface".
            $results | Should -Be @(-22, -22)
        }
    }

    Context '[RUN] Clear UC_STRICT_RESTORE_SS and corrupt SS (<Name>)' -ForEach $Nonstrict {
        BeforeAll {
            # sigusr2(): uc_flags &= ~UC_STRICT_RESTORE_SS; SS = 0; return.
            $cpu = New-ScenarioCpu $_
            $m = $cpu.Machine
            $handler = $m.UserText + 0x100
            $null = Write-UserCode $cpu $handler 'mov rax, [rdx]', "mov [$($m.UserDataArea)], rax", 'and qword ptr [rdx], -5', "mov word ptr [rdx+$(40 + 150)], 0", 'ret'
            Set-SignalHandler $cpu $SIGUSR2 $handler $SA_SIGINFO
            $r = $cpu | Invoke-EmuCode -Assembly "mov edi, $TaskPid", "mov esi, $TaskPid", "mov edx, $SIGUSR2", 'mov eax, 234', 'syscall'
            $ucFlags = $m.Memory.ReadUInt64($m.UserDataArea)
        }

        It '[OK] It worked: the kernel recovers without another signal and SS is __USER_DS' {
            $r.Oops | Should -BeNullOrEmpty
            $r.Outcome | Should -Be 'ran to the end of the code'
            $r.After.Ss | Should -Be 0x2b
        }

        It 'raise(2) set UC_STRICT_RESTORE_SS (4.6+), or no flag at all before 4.6 (the selftest''s "[FAIL] raise(2) didn''t set UC_STRICT_RESTORE_SS")' {
            ($ucFlags -band 0x4) | Should -Be $(if ($SsInSigcontext) { 0x4 } else { 0 })
        }
    }

    Context '[RUN] Nasty ABI case: 32-bit CS, <SsBits>-bit SS (<Ss>), then SS corrupted on return to 64-bit mode (<Name>)' -ForEach $Corrupt {
        BeforeAll {
            $out = Invoke-Sigreturn $_ 0x23 $Ss -CorruptFinalSs -Ldt
        }

        It 'the SIGTRAP from 32-bit code has UC_STRICT_RESTORE_SS clear, so force_valid_ss() repairs SS = 0 and raise() returns' {
            ($out.TrapUcFlags -band 0x4) | Should -Be 0 -Because 'UC_STRICT_RESTORE_SS was set inappropriately'
            $out.Run.Oops | Should -BeNullOrEmpty
            $out.Run.Outcome | Should -Be 'ran to the end of the code'
            $out.Run.After.Ss | Should -Be 0x2b
        }
    }
}
