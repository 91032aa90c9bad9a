# Every narrated example runs as it is, writes no error, and produces the objects its story depends on. The
# expectations come from the kernel sources and the vendor manuals, not from running the examples.
BeforeAll {
    $script:Examples = Join-Path $PSScriptRoot '../../examples'
    function Invoke-Example([string] $Name) {
        $path = Join-Path $Examples $Name
        $err = $null
        $out = & $path -PassThru -ErrorVariable err 6>$null
        $err | Should -BeNullOrEmpty -Because "$Name must run without errors"
        $out
    }
}

Describe 'examples' {
    It 'has the examples in reading order' {
        @(Get-ChildItem $Examples -Filter *.ps1 | ForEach-Object Name) | Should -Be @(
            '00-headline.ps1', '01-first-syscall.ps1', '02-three-ways-in.ps1', '03-why-iret.ps1',
            '04-intel-versus-amd.ps1', '05-old-kernel-versus-new.ps1', '06-ptrace-edits-force-iret.ps1',
            '07-restart-after-a-signal.ps1', '08-vdso-unwind.ps1', '09-the-real-kernel-as-oracle.ps1',
            '10-the-2015-thread.ps1', '11-a-refused-iret.ps1', '12-a-real-program.ps1')
    }

    It '01 makes a first getpid: 4242 through the vDSO''s SYSCALL on AMD, pt_regs saved' {
        $cpu, $result, $regs = Invoke-Example '01-first-syscall.ps1'
        $cpu | Should -BeOfType ([SyscallTools.EmuCpu])
        $result.Return | Should -Be 4242
        $result.EntryInstruction | Should -Be 'SYSCALL'
        $result.ExitInstruction | Should -Be 'SYSRETL'
        $regs.orig_ax | Should -Be 20
    }

    It '02 shows int $0x80 leaving with IRET and the fast entries with SYSRETL' {
        $r = Invoke-Example '02-three-ways-in.ps1'
        @($r.Via) | Should -Be @('Int80', 'Sysenter', 'Vdso')
        @($r.ExitInstruction) | Should -Be @('IRET', 'SYSRETL', 'SYSRETL')
        @($r.Return | Sort-Object -Unique) | Should -Be 4242
    }

    It '03 turns SYSRETL into IRET by changing ip, flags or cs' {
        $d = Invoke-Example '03-why-iret.ps1'
        @($d.Instruction) | Should -Be @('SYSRETL', 'IRET', 'IRET', 'IRET', 'IRET')
        $d[1].Reason | Should -Match 'landing pad'
        $d[2].Reason | Should -Match 'RF\|TF\|VM'
    }

    It '04 shows SIGILL for SYSCALL on Intel and SYSENTER on AMD' {
        $rows = Invoke-Example '04-intel-versus-amd.ps1'
        ($rows | Where-Object { $_.Vendor -eq 'Intel' -and $_.Via -eq 'Syscall' }).Signal | Should -Be 'SIGILL'
        ($rows | Where-Object { $_.Vendor -eq 'AMD' -and $_.Via -eq 'Sysenter' }).Signal | Should -Be 'SIGILL'
        ($rows | Where-Object { $_.Vendor -eq 'AMD' -and $_.Via -eq 'Vdso' }).EntryInstruction | Should -Be 'SYSCALL'
        ($rows | Where-Object { $_.Vendor -eq 'Intel' -and $_.Via -eq 'Vdso' }).EntryInstruction | Should -Be 'SYSENTER'
    }

    It '05 shows the pre-rewrite kernel trusting pt_regs and the rewrite checking it' {
        $rows = Invoke-Example '05-old-kernel-versus-new.ps1'
        @($rows.Kernel) | Should -Be @('linux-4.2', 'linux-4.4', 'linux-6.18')
        @($rows.IpMovedExit) | Should -Be @('SYSRETL', 'IRET', 'IRET')
        $rows[0].VdsoImage | Should -Be 'sysenter'
    }

    It '06 shows which tracer edits force IRET and which do not' {
        $rows = Invoke-Example '06-ptrace-edits-force-iret.ps1'
        $by = @{}; foreach ($r in $rows) { $by[$r.Edit] = $r }
        $by['nothing'].ExitInstruction | Should -Be 'SYSRETL'
        $by['ax = 7'].ExitInstruction | Should -Be 'SYSRETL'
        $by['ax = 7'].Return | Should -Be 7
        $by['ip moved'].FailedCheck | Should -Be 'regs->ip == landing pad'
        $by['TF set'].ExitInstruction | Should -Be 'IRET'
        $by['cs = 0x33'].FailedCheck | Should -Be 'regs->cs == __USER32_CS'
        $by['orig_ax = 64'].Return | Should -Be 1
    }

    It '07 restarts an interrupted read() through the vDSO''s int $0x80 at landing pad - 2' {
        $summary, $story = Invoke-Example '07-restart-after-a-signal.ps1'
        $lp = [Convert]::ToUInt64($summary.LandingPad.Substring(2), 16)
        # At the exit stop a fast entry's ip is the landing pad; SA_RESTART turns -ERESTARTSYS into ax = orig_ax
        # (read is 3 on i386) and ip - 2, which the handler's frame saves.
        $summary.IpAtExitStop | Should -Be $summary.LandingPad
        $summary.SavedIp | Should -Be ('0x{0:x}' -f ($lp - 2))
        $summary.SavedAx | Should -Be 3
        $summary.HandlerRuns | Should -Be 1
        $summary.ReentryAt | Should -Be ('0x{0:x}' -f ($lp - 2))
        $summary.ReentryText | Should -Be 'int 0x80'
        $summary.FirstEntry | Should -Be 'SYSENTER'
        $summary.LastExit | Should -Be 'IRET'
        $summary.Return | Should -Be 0               # stdin is empty: read() returns 0 the second time
        # The far transfers: SYSENTER in, ..., and the restarted call's INT 0x80 from landing pad - 2.
        $story[0].Text | Should -Match '^SYSENTER'
        @($story | Where-Object { $_.Text -match '^INT 0x80' -and $_.Symbol -match 'int80_landing_pad' }).Count | Should -Be 1
    }

    It '08 unwinds out of every vDSO image at every step, and a broken CFA offset fails exactly once' {
        $rows = Invoke-Example '08-vdso-unwind.ps1'
        $rows.Count | Should -Be 10
        ($rows[0..7] | Where-Object Failed -ne 0) | Should -BeNullOrEmpty
        ($rows | Where-Object Image -eq 'syscall').Steps | Should -Be 8      # push ebp; mov; syscall; mov; mov ss; mov; pop; ret
        $broken = $rows | Where-Object Image -like '*broken*'
        $broken.Failed | Should -Be 1
        $broken.FirstFailure | Should -Match '^push ebp'
        ($rows | Where-Object Image -like 'host*').Failed | Should -Be 0
    }

    It '09 asks the host kernel: every observable agrees, or the scenario says why it cannot run here' {
        $rows = @(Invoke-Example '09-the-real-kernel-as-oracle.ps1')
        @($rows.Scenario | Sort-Object -Unique) | Should -Be @('ptrace-vdso-32', 'restart-read-vdso-32')
        if ($rows[0].Skipped) { Set-ItResult -Skipped -Because $rows[0].SkipReason; return }
        $rows | Where-Object { -not $_.Agree } | Should -BeNullOrEmpty
        ($rows | Where-Object { $_.Scenario -eq 'ptrace-vdso-32' -and $_.Field -eq 'entry.ip-2.insn' }).Host | Should -Be 'cd 80'
        ($rows | Where-Object { $_.Scenario -eq 'restart-read-vdso-32' -and $_.Field -eq 'stop02.ax' }).Host | Should -Be '-512 (ERESTARTSYS)'
    }

    It '00, the headline, covers vendor x kernel x entry: IRET for int $0x80, SYSRETQ for 64-bit SYSCALL, SIGILL where the vendor refuses' {
        $rows = Invoke-Example '00-headline.ps1'
        $rows.Count | Should -Be 30
        ($rows | Where-Object Via -eq 'Int80').ExitInstruction | Sort-Object -Unique | Should -Be 'IRET'
        ($rows | Where-Object Task -eq '64-bit').ExitInstruction | Sort-Object -Unique | Should -Be 'SYSRETQ'
        ($rows | Where-Object { $_.Vendor -eq 'AMD' -and $_.Via -eq 'Sysenter' }).Signal | Sort-Object -Unique | Should -Be 'SIGILL'
        ($rows | Where-Object { $_.Vendor -eq 'Intel' -and $_.Task -eq '32-bit' -and $_.Via -eq 'Syscall' }).Signal | Sort-Object -Unique | Should -Be 'SIGILL'
        ($rows | Where-Object { -not $_.Signal }).Return | Sort-Object -Unique | Should -Be 4242
    }

    It '10 runs the 2015 thread: the rewrite costs the compat path +18 (calibrated), each proposal saves cycles, and shows where each is wrong' {
        $out = @(Invoke-Example '10-the-2015-thread.ps1')
        $table = @($out | Where-Object { $_.PSObject.Properties['Model'] })
        $table.Count | Should -Be 20
        $row = { param($v, $k, $m) $table | Where-Object { $_.Vendor -eq $v -and $_.Kernel -eq $k -and $_.Model -eq $m } }
        (& $row Intel 'compat (64-bit)' linux-4.2).VsLinux44 | Should -Be -18
        foreach ($m in 'linux-4.4+fastsyscall-flag', 'linux-4.4+exit-work-bypass', 'linux-4.4+ptregs-accessors') {
            (& $row AMD 'compat (64-bit)' $m).VsLinux44 | Should -BeLessThan 0
            # On AMD the compat entry is SYSCALL, which masks TF: every proposal then returns by SYSRETL with TF (DesignModelTests).
            (& $row AMD 'compat (64-bit)' $m).DiffersIn | Should -Match 'user-tf'
        }
        (& $row Intel 'native 32-bit' linux-4.4+exit-work-bypass).DiffersIn | Should -Match 'signal-handler'
        (& $row Intel 'native 32-bit' linux-4.4+ptregs-accessors).DiffersIn | Should -BeNullOrEmpty
        $truth = @($out | Where-Object { $_.PSObject.Properties['HostNs'] })
        $truth.Count | Should -Be 3
        $truth | ForEach-Object { $_.ModelCycles | Should -BeGreaterThan 0 }
    }

    It '11 turns a refused IRET into the user''s fault: SIGSEGV #GP(selector) on 6.18, nothing on 4.4 (no SS in the frame), SIGILL trapno 32 on a 32-bit kernel' {
        $rows = @(Invoke-Example '11-a-refused-iret.ps1')
        $rows.Count | Should -Be 3
        # fixup_bad_iret: the IRET's #GP(SS selector), SS 0x33 (a code segment) -> error code 0x30.
        $rows[0].Signal | Should -Be 'SIGSEGV'
        $rows[0].Trapno | Should -Be 13
        $rows[0].Err | Should -Be '0x30'
        $rows[0].FrameSs | Should -Be '0x33'
        $rows[0].Path | Should -Match 'fixup_bad_iret'
        # Before 4.6 the 64-bit sigcontext has no SS: sigreturn leaves __USER_DS and the IRET succeeds.
        $rows[1].Signal | Should -Be 'none'
        $rows[1].Outcome | Should -Be 'ran to the end of the code'
        # entry_32.S: _ASM_EXTABLE(irq_return, iret_exc); traps.c do_iret_error: SIGILL, X86_TRAP_IRET, error 0.
        $rows[2].Signal | Should -Be 'SIGILL'
        $rows[2].Trapno | Should -Be 32
        $rows[2].Err | Should -Be '0x0'
        $rows[2].FrameSs | Should -Be '0x73'
        $rows[2].Path | Should -Match 'do_iret_error'
    }

    It '12 runs gcc-built programs as the host does, vDSO calls leaving by SYSRETL and int $0x80 by IRET' {
        $rows = @(Invoke-Example '12-a-real-program.ps1')
        if ($rows[0].PSObject.Properties['Skipped']) {
            Set-ItResult -Skipped -Because $rows[0].Skipped
            return
        }
        $rows | Should -HaveCount 4
        foreach ($r in $rows) {
            $r.SameAsHost | Should -BeTrue -Because "$($r.Program) on $($r.Vendor) prints what the host prints"
            $r.Result.NotModelledSyscalls | Should -Be @('rseq')
        }
        $rows[0..1].ExitStatus | Should -Be @(2, 2)                          # argc - 1
        foreach ($r in $rows | Where-Object Program -eq 'hello-32') {
            $vdso = @($r.Result.Syscalls | Where-Object { $_.ViaVdso -and $_.ExitInstruction })
            $vdso.ExitInstruction | Sort-Object -Unique | Should -Be 'SYSRETL'
            $vdso[0].EntryInstruction | Should -Be ($r.Vendor -eq 'AMD' ? 'SYSCALL' : 'SYSENTER')
        }
        @($rows[2].Result.Syscalls | Where-Object ExitInstruction).ExitInstruction | Sort-Object -Unique | Should -Be 'SYSRETQ'
        $read = $rows[3].Result.Syscalls | Where-Object Name -eq 'read'
        $read.Errno | Should -Be 'ERESTARTSYS'
        $read.ExitInstruction | Should -Be 'IRET'
        ($rows[3].Result.Syscalls | Where-Object Name -eq 'sigreturn').Errno | Should -Be 'EINTR'
    }
}
