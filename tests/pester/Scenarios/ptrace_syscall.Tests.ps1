# ptrace_syscall (tools/testing/selftests/x86/ptrace_syscall.c @ 0b77b970; both bitnesses, needs 32-bit support):
#  1. test_sys32_regs: gettid (224) with ebx..ebp = 10..15 through int $0x80 (and, in the 32-bit build, AT_SYSINFO)
#     must return getpid() and keep every argument register; kill(getpid(), SIGUSR1) (37) with an empty handler must
#     return 0 and keep them too (a signal delivered on the way out, then sigreturn). The 64-bit build issues the
#     int $0x80 from 64-bit code and declares r8-r11 clobbered.
#  2. test_ptrace_syscall_restart: under PTRACE_SYSEMU the child's syscall(SYS_gettid, 10..15) stops with nr and the
#     six arguments visible; "regs.user_ax = regs.user_syscall_nr; regs.user_ip -= 2" must re-issue the identical call
#     ("highly magical" for SYSCALL32/SYSENTER: ip - 2 must be an int $0x80); then ax = SYS_getpid with arguments
#     20..25 and ip -= 2 must show the new values; PTRACE_CONT and the child exits 0.
#  3. test_restart_under_ptrace: SIGUSR1 is SIG_IGN with SA_RESTART; pause() stops at entry (nr pause, arguments 0);
#     the tracer kills SIGUSR1; the exit stop shows the same nr and arguments (ax = -ERESTARTNOHAND, -514, from
#     sys_pause); writing the same registers back must not break anything; the signal-delivery stop follows; and the
#     next stop is pause()'s entry again with the same arguments.
#
# Where a model differs:
# * int $0x80 from 64-bit code before 4.17 stored zeros for r8-r11 (linux-4.2, linux-4.4): the selftest declares them
#   clobbered, so nothing here reads them.
# * linux-4.2 exits every traced call with IRET (TIF_SYSCALL_TRACE is work, and work means IRET); the selftest does
#   not look at the exit instruction.
# * The model re-reads TIF_SYSCALL_EMU after the SYSEMU stop: the tracer here drops SYSEMU at the last stop
#   (PTRACE_CONT), so that getpid really runs; the kernel decided "emulated" before the stop and would skip it. The
#   selftest only checks that the child then exits 0.
# * linux-4.2 with the SYSCALL vDSO image (AMD, 64-bit kernel, 32-bit build): the restart re-executes `syscall`, which
#   takes arg 2 from EBP and arg 6 from the stack, so the replaced ECX/EBP arguments are not what the next stop sees;
#   only the other four are checked there.
# * Model gap: after the restarted pause() blocks, the model still runs it through the exit work (a syscall-exit stop
#   with -ERESTARTNOHAND) before the run stops; the real task sleeps inside pause(). Only the stops up to the
#   restarted entry are checked.
# * The tracers here read and write the 64-bit build's r10/r8/r9 arguments through the stop's pt_regs
#   (`$_.Regs[name]`), which is what PTRACE_GETREGS/SETREGS see. (Written while Peek/Poke still refused r10-r15 — a
#   model bug since fixed; see PtraceRegressionTests.TracerCanWriteR10ToR15.)
# * The 64-bit build's int $0x80 is run with Invoke-EmuCode, loading ebx..ebp itself as do_full_int80 does.
#   (Invoke-Syscall -Via Int80 now loads the i386 argument registers too; see PtraceRegressionTests.)
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'ScenarioHelpers.ps1')
    $script:Cases = @(Get-ScenarioMatrix)
    # test_sys32_regs: int $0x80 in both builds, AT_SYSINFO in the 32-bit build only.
    $script:Sys32Cases = @(foreach ($c in $Cases) {
            foreach ($via in @(if ($c.Bitness -eq 32) { 'Int80', 'Vdso' } else { 'Int80' })) { $c + @{ Via = $via } }
        })
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../../SyscallTools.psd1') -Force
    . (Join-Path $PSScriptRoot 'ScenarioHelpers.ps1')

    # struct syscall_args32 through do_full_int80 / do_full_vsyscall32: returns nr, arg0..arg5 as the registers left them.
    function Invoke-Sys32([object] $Cpu, [string] $Via, [uint32[]] $Regs) {
        if ($Cpu.Bitness -eq 32) {
            $r = $Cpu | Invoke-Syscall -Number $Regs[0] -ArgumentList $Regs[1..6] -Via $Via
            $a = $r.After
        } else {
            $asm = @('mov eax, {0}' -f $Regs[0]) + @(for ($i = 1; $i -le 6; $i++) { 'mov {0}, {1}' -f ('ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp')[$i - 1], $Regs[$i] }) + 'int 0x80'
            $r = $Cpu | Invoke-EmuCode -Assembly $asm
            $a = $r.After
        }
        [pscustomobject]@{
            Result = $r
            Values = @($a.Ax, $a.Bx, $a.Cx, $a.Dx, $a.Si, $a.Di, $a.Bp | ForEach-Object { Get-Low32 $_ })
        }
    }
}

Describe 'ptrace_syscall' {
    Context '[RUN] Check <Via> return regs (<Name>)' -ForEach $Sys32Cases {
        It '[OK] getpid() preserves regs' {
            $cpu = New-EmuCpu -Vendor $Vendor -Kernel $Kernel -KernelBits $KernelBits -Bitness $Bitness
            $out = Invoke-Sys32 $cpu $Via @(224, 10, 11, 12, 13, 14, 15)
            $out.Result.Oops | Should -BeNullOrEmpty
            $out.Values | Should -Be @($TaskPid, 10, 11, 12, 13, 14, 15)
        }

        It '[OK] kill(getpid(), SIGUSR1) preserves regs' {
            $cpu = New-EmuCpu -Vendor $Vendor -Kernel $Kernel -KernelBits $KernelBits -Bitness $Bitness
            $handler = $cpu.Machine.UserText + 0x100
            $null = Write-UserCode $cpu $handler 'ret'        # empty_handler
            Set-SignalHandler $cpu $SIGUSR1 $handler $SA_SIGINFO
            $out = Invoke-Sys32 $cpu $Via @(37, $TaskPid, $SIGUSR1, 12, 13, 14, 15)
            $out.Result.Oops | Should -BeNullOrEmpty
            $out.Result.Signal | Should -Be 'SIGUSR1' -Because 'the handler ran on the way out'
            $out.Values | Should -Be @(0, $TaskPid, $SIGUSR1, 12, 13, 14, 15)
        }
    }

    Context '[RUN] ptrace-induced syscall restart (<Name>)' -ForEach $Cases {
        BeforeAll {
            $cpu = New-EmuCpu -Vendor $Vendor -Kernel $Kernel -KernelBits $KernelBits -Bitness $Bitness
            $argNames = if ($Bitness -eq 64) { 'di', 'si', 'dx', 'r10', 'r8', 'r9' } else { 'bx', 'cx', 'dx', 'si', 'di', 'bp' }
            $gettid = if ($Bitness -eq 64) { 186 } else { 224 }
            $getpid = if ($Bitness -eq 64) { 39 } else { 20 }
            $state = @{ Stops = [System.Collections.Generic.List[object]]::new(); Machine = $cpu.Machine; ArgNames = $argNames; GetPid = $getpid }
            # PTRACE_SYSEMU: every syscall stops at entry and is not run.
            Set-PtRegs $cpu -At SyscallEntry -Persist -ScriptBlock {
                $s = $_
                $state.Stops.Add([pscustomobject]@{ Nr = $s.SyscallNumber; Args = @($state.ArgNames | ForEach-Object { $s.Regs[$_] }); Ip = $s.Peek('ip') })
                switch ($state.Stops.Count) {
                    1 { $s.Poke('ax', $s.Peek('orig_ax')); $s.Poke('ip', $s.Peek('ip') - 2) }
                    2 {
                        $s.Poke('ax', $state.GetPid)
                        for ($i = 0; $i -lt 6; $i++) { $s.Regs[$state.ArgNames[$i]] = [ulong](20 + $i) }
                        $s.Poke('ip', $s.Peek('ip') - 2)
                    }
                    default { $state.Machine.Tracer.Sysemu = $false }     # PTRACE_CONT
                }
            }.GetNewClosure()
            $cpu.Machine.Tracer.Sysemu = $true
            # syscall(SYS_gettid, 10, 11, 12, 13, 14, 15) through libc's entry: the vDSO (32-bit) or SYSCALL (64-bit).
            $call = $cpu | Invoke-Syscall -Number $gettid -ArgumentList 10, 11, 12, 13, 14, 15 -MaxInstructions 100000
            $stops = $state.Stops
        }

        It '[OK] Initial nr and args are correct' {
            $stops.Count | Should -BeGreaterOrEqual 1
            $stops[0].Nr | Should -Be $gettid
            $stops[0].Args | Should -Be @(10, 11, 12, 13, 14, 15)
        }

        It '[OK] Restarted nr and args are correct' {
            $stops.Count | Should -BeGreaterOrEqual 2
            $stops[1].Nr | Should -Be $gettid
            $stops[1].Args | Should -Be @(10, 11, 12, 13, 14, 15)
        }

        It '[OK] Replacement nr and args are correct' {
            $stops.Count | Should -Be 3
            $stops[2].Nr | Should -Be $getpid
            if ($Kernel -eq 'linux-4.2' -and $Bitness -eq 32 -and $cpu.Vdso.EntryVariant -eq 'syscall') {
                # Pre-rewrite SYSCALL image: ip - 2 is the vDSO's `syscall` itself, and a 32-bit SYSCALL takes arg 2
                # from EBP and arg 6 from the user stack, not from the ECX/EBP values the tracer wrote. Only the
                # arguments travelling in ebx, edx, esi and edi are the replacements. (The rewrite's restart through
                # the int $0x80 before the landing pad is what made this "highly magical" case work.)
                $stops[2].Args[0, 2, 3, 4] | Should -Be @(20, 22, 23, 24)
            } else {
                $stops[2].Args | Should -Be @(20, 21, 22, 23, 24, 25)
            }
        }

        It '[OK] Child exited cleanly' {
            $call.Completed | Should -BeTrue -Because $call.Outcome
            $call.Oops | Should -BeNullOrEmpty
            $exit = $cpu | Invoke-Syscall exit_group -ArgumentList 0
            $exit.TaskExited | Should -BeTrue
            $cpu.Machine.Task.ExitStatus | Should -Be 0
        }
    }

    Context '[RUN] kernel syscall restart under ptrace (<Name>)' -ForEach $Cases {
        BeforeAll {
            $cpu = New-EmuCpu -Vendor $Vendor -Kernel $Kernel -KernelBits $KernelBits -Bitness $Bitness
            $argNames = if ($Bitness -eq 64) { 'di', 'si', 'dx', 'r10', 'r8', 'r9' } else { 'bx', 'cx', 'dx', 'si', 'di', 'bp' }
            $pause = if ($Bitness -eq 64) { 34 } else { 29 }
            # setsigign(SIGUSR1, SA_RESTART)
            $cpu.Machine.SignalState.Actions[$SIGUSR1] = [SyscallTools.Core.Linux.SignalAction]::new(1, $SA_RESTART, 0, 0)
            $state = @{ Stops = [System.Collections.Generic.List[object]]::new(); Machine = $cpu.Machine; ArgNames = $argNames; Usr1 = $SIGUSR1 }
            $record = {
                param($s)
                [pscustomobject]@{ Kind = "$($s.Kind)"; Nr = $s.SyscallNumber; Args = @($state.ArgNames | ForEach-Object { $s.Regs[$_] }); Ax = $s.Peek('ax') }
            }
            Set-PtRegs $cpu -At SyscallEntry -Persist -ScriptBlock {
                $state.Stops.Add((& $record $_))
                # kill(chld, SIGUSR1) while the child sits at pause()'s entry stop.
                if ($state.Stops.Count -eq 1) { $state.Machine.SendSignal($state.Usr1) }
            }.GetNewClosure()
            Set-PtRegs $cpu -At SyscallExit -Persist -ScriptBlock {
                $s = $_
                $state.Stops.Add((& $record $s))
                # PTRACE_SETREGS with the registers just read: "This must not break anything."
                foreach ($n in $s.RegisterNames) { if ($n -notmatch '^r1[0-5]$') { $s.Poke($n, $s.Peek($n)) } }
            }.GetNewClosure()
            $call = $cpu | Invoke-Syscall -Number $pause -ArgumentList 0, 0, 0, 0, 0, 0 -MaxInstructions 100000
            $stops = $state.Stops
            $kinds = @($cpu.Machine.Tracer.History | ForEach-Object { "$($_.Kind)" })
        }

        It '[OK] Initial nr and args are correct' {
            $stops[0].Kind | Should -Be 'SyscallEntry'
            $stops[0].Nr | Should -Be $pause
            $stops[0].Args | Should -Be @(0, 0, 0, 0, 0, 0)
        }

        It '[OK] Args after SIGUSR1 are correct (ax = -514)' {
            $stops[1].Kind | Should -Be 'SyscallExit'
            $stops[1].Nr | Should -Be $pause
            $stops[1].Args | Should -Be @(0, 0, 0, 0, 0, 0)
            # sys_pause returns -ERESTARTNOHAND; the selftest prints it.
            $ax = if ($Bitness -eq 64) { [BitConverter]::ToInt64([BitConverter]::GetBytes([ulong]$stops[1].Ax), 0) } else { [BitConverter]::ToInt32([BitConverter]::GetBytes([uint32]$stops[1].Ax), 0) }
            $ax | Should -Be -514
        }

        It '[OK] Child got SIGUSR1' {
            $kinds[0..2] | Should -Be @('SyscallEntry', 'SyscallExit', 'SignalDelivery')
        }

        It '[OK] pause(2) restarted correctly' {
            # (After blocking, the model still runs the restarted pause() through its exit work, so a fourth stop may
            # follow; the real task would sleep inside pause() with no further stop.)
            $stops.Count | Should -BeGreaterOrEqual 3
            $stops[2].Kind | Should -Be 'SyscallEntry'
            $stops[2].Nr | Should -Be $pause
            $stops[2].Args | Should -Be @(0, 0, 0, 0, 0, 0)
            # And then it sleeps again (the selftest kills it there).
            $call.Completed | Should -BeFalse
            $call.Outcome | Should -Match 'pause'
            $call.Oops | Should -BeNullOrEmpty
        }
    }
}
