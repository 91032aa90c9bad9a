# Determinism and parallel runs (issue 9). The same inputs give byte-identical results and traces: every example's
# pipeline and a scenario matrix (every kernel model, vendor, kernel and task bitness, entry) are run twice and their
# renderings compared as strings. Machines are independent: ForEach-Object -Parallel over many New-EmuCpu machines gives
# exactly what a serial run gives. (One machine is not shared between threads; see the README.)
BeforeDiscovery {
    $examples = Get-ChildItem (Join-Path $PSScriptRoot '../../examples') -Filter *.ps1 | ForEach-Object { @{ Name = $_.Name; Path = $_.FullName } }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../SyscallTools.psd1') -Force

    # Everything an object shows, as text: its default view, every property that is itself a value, and the full trace
    # of a traced result. Machines are rendered by what identifies them (their state is covered by the results).
    function ConvertTo-Fingerprint {
        param([Parameter(ValueFromPipeline)] $InputObject)
        process {
            $o = $InputObject
            if ($null -eq $o) { return '<null>' }
            $base = $o.psobject.BaseObject
            if ($base -is [SyscallTools.EmuCpu]) { return "EmuCpu $base pid=$($base.Pid) exited=$($base.TaskExited)" }
            # Timings of the real kernel (example 10's ground truth, Measure-HostSyscall) are measurements, not results.
            $timed = @('HostNs', 'ModelNsAtClock', 'NsPerCall') | Where-Object { $o.PSObject.Properties[$_] }
            if ($timed) { $o = $o | Select-Object * -ExcludeProperty $timed }
            $lines = [System.Collections.Generic.List[string]]::new()
            $lines.Add(($o | Out-String -Width 400).TrimEnd())
            foreach ($p in $o.PSObject.Properties) {
                if ($p.Name -in 'Cpu', 'Machine') { continue }
                $v = try { $p.Value } catch { "<$($_.Exception.GetType().Name)>" }
                if ($p.Name -eq 'Trace' -and $v) { $lines.Add('trace: ' + (@($v | ForEach-Object ToString) -join "`n")); continue }
                if ($v -is [System.Collections.IEnumerable] -and $v -isnot [string]) { $v = @($v | ForEach-Object { "$_" }) -join '; ' }
                $lines.Add("$($p.Name)=$v")
            }
            $lines -join "`n"
        }
    }

    function Invoke-Twice([scriptblock] $Run) {
        $first = @(& $Run | ConvertTo-Fingerprint) -join "`n----`n"
        $second = @(& $Run | ConvertTo-Fingerprint) -join "`n----`n"
        $first
        $second
    }

    $script:Matrix = foreach ($k in Get-EmuKernel) {
        foreach ($v in 'Intel', 'AMD') {
            foreach ($pair in @(@{ K = 64; T = 32 }, @{ K = 64; T = 64 }, @{ K = 32; T = 32 })) {
                $vias = if ($pair.T -eq 64) { 'Syscall', 'Int80', 'Sysenter' } else { 'Vdso', 'Int80', 'Sysenter', 'Syscall' }
                foreach ($via in $vias) { [pscustomobject]@{ Kernel = $k.Name; Vendor = $v; KernelBits = $pair.K; Bitness = $pair.T; Via = $via } }
            }
        }
    }

    # One case of the matrix, as text: a traced getpid, a traced write with output, and a tracer edit that forces IRET.
    $script:RunCase = {
        param($c)
        $cpu = New-EmuCpu -Vendor $c.Vendor -Kernel $c.Kernel -KernelBits $c.KernelBits -Bitness $c.Bitness
        $getpid = $cpu | Invoke-Syscall getpid -Via $c.Via -Trace
        $trace = @($getpid | Get-EmuTrace | ForEach-Object ToString) -join "`n"
        # (An entry the CPU refuses — SYSENTER on AMD in long mode, SYSCALL on Intel outside it — kills the task: SIGILL.)
        $write = if (-not $cpu.TaskExited) { $cpu | Invoke-Syscall write 1, ($cpu.Machine.InitialStackPointer + 0x100), 12 -Via $c.Via -Trace }
        $edited = if (-not $cpu.TaskExited) {
            Set-PtRegs $cpu -At SyscallExit -Register @{ flags = 0x346 }     # TF: the exit must be IRET
            $cpu | Invoke-Syscall getppid -Via $c.Via -MaxInstructions 20000 -Trace
        }
        # pt_regs as data (the grouped view renders its headers through the host, which differs between runspaces).
        $regs = @((Get-PtRegs $cpu 3>$null).PSObject.Properties | ForEach-Object { "$($_.Name)=$($_.Value)" }) -join ' '

        @(
            "$($c.Kernel) $($c.Vendor) $($c.KernelBits)/$($c.Bitness) $($c.Via)"
            foreach ($r in @($getpid, $write, $edited) | Where-Object { $_ }) {
                "$($r.Name) ret=$($r.Return) $($r.Errno) $($r.EntryInstruction)->$($r.ExitInstruction) $($r.Outcome) sig=$($r.Signal) oops=$($r.Oops) " +
                "u=$($r.UserInstructions) k=$($r.KernelInstructions) after=$($r.After) c=$($r.CFunctions -join ',')"
                if ($r.ExitPath) { ($r.ExitPath.Checks | ForEach-Object { "$($_.Name)=$($_.Actual)/$($_.Expected)/$($_.Passed)" }) -join ';' }
                @($r.Trace | ForEach-Object ToString) -join "`n"
            }
            $trace
            $regs
            $cpu.Machine.Task.Stdout
        ) -join "`n"
    }
}

Describe 'Determinism' {
    It 'example <Name> gives byte-identical objects and traces on two runs' -ForEach $examples {
        $first, $second = Invoke-Twice { & $Path -PassThru 6>$null }
        $first | Should -Not -BeNullOrEmpty
        $second | Should -BeExactly $first
    }

    It 'the scenario matrix (every kernel, vendor, bitness pair and entry) gives byte-identical results and traces twice' {
        $script:Matrix.Count | Should -BeGreaterThan 60
        $first = foreach ($c in $script:Matrix) { & $script:RunCase $c }
        $second = foreach ($c in $script:Matrix) { & $script:RunCase $c }
        for ($i = 0; $i -lt $first.Count; $i++) { $second[$i] | Should -BeExactly $first[$i] -Because "case $i must repeat exactly" }
    }
}

Describe 'Parallel machines' {
    It 'ForEach-Object -Parallel over a machine per matrix case equals the serial run' {
        $module = (Get-Module SyscallTools).Path
        $run = $script:RunCase.ToString()
        $serial = foreach ($c in $script:Matrix) { & $script:RunCase $c }
        $parallel = $script:Matrix | ForEach-Object -ThrottleLimit 4 -Parallel {
            Import-Module $using:module
            $case = [scriptblock]::Create($using:run)
            & $case $_
        }
        # -Parallel does not keep the input order: match each case by its first line (its name).
        $parallel.Count | Should -Be $serial.Count
        $byName = @{}
        foreach ($p in $parallel) { $byName[($p -split "`n")[0]] = $p }
        foreach ($s in $serial) {
            $name = ($s -split "`n")[0]
            $byName[$name] | Should -BeExactly $s -Because "$name must not depend on the thread it ran on"
        }
    }
}
