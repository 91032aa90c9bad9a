# W5 and W6 of the benchmark harness (issue 8), measured from PowerShell: the workloads a user's scripts pay for.
#   W5  a sweep through the cmdlets: New-EmuCpu for every vendor × kernel model × kernel bitness × task bitness, and one
#       Invoke-Syscall per entry method each machine has — scenarios (one Invoke-Syscall each) per second; and the same
#       sweep as a batch (Invoke-Syscall -Cpu with every machine, one invocation per entry method).
#   W6  cold start: a new pwsh, Import-Module, the first New-EmuCpu | Invoke-Syscall getpid — seconds (best of 3).
# Prints a table and one BENCH_JSON line per figure, like the .NET harness.
param([string] $Root = (Join-Path $PSScriptRoot '../..'))
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $Root 'SyscallTools.psd1') -Force

function Write-BenchJson([string] $Workload, [string] $Metric, [double] $Value) {
    'BENCH_JSON ' + (@{ workload = $Workload; metric = $Metric; value = [math]::Round($Value, 3); peer = $null; peer_value = $null; ratio = $null } |
        ConvertTo-Json -Compress)
}

$kernels = (Get-EmuKernel).Name
$cases = foreach ($vendor in 'Intel', 'AMD') {
    foreach ($kernel in $kernels) {
        foreach ($kbits in 64, 32) {
            foreach ($tbits in @(if ($kbits -eq 64) { 64, 32 } else { 32 })) {
                $methods = if ($tbits -eq 64) { 'Syscall', 'Int80' } else { 'Vdso', 'Int80', 'Sysenter', 'Syscall' }
                [pscustomobject]@{ Vendor = $vendor; Kernel = $kernel; KernelBits = $kbits; Bitness = $tbits; Methods = $methods }
            }
        }
    }
}
# One warm-up pass so that JIT compilation is not charged to the sweep.
$null = $cases | Select-Object -First 4 | ForEach-Object { New-EmuCpu -Vendor $_.Vendor -Kernel $_.Kernel -KernelBits $_.KernelBits -Bitness $_.Bitness }
$clock = [Diagnostics.Stopwatch]::StartNew()
$machines = 0; $scenarios = 0
foreach ($c in $cases) {
    $cpu = New-EmuCpu -Vendor $c.Vendor -Kernel $c.Kernel -KernelBits $c.KernelBits -Bitness $c.Bitness
    $machines++
    foreach ($m in $c.Methods) {
        # Entries a CPU does not have fault in user mode: still a scenario, with its result (a signal).
        $null = Invoke-Syscall -Cpu $cpu -Number ($(if ($c.Bitness -eq 64 -and $m -ne 'Int80') { 39 } else { 20 })) -Via $m -ErrorAction SilentlyContinue
        $scenarios++
        if ($cpu.TaskExited) { $cpu = New-EmuCpu -Vendor $c.Vendor -Kernel $c.Kernel -KernelBits $c.KernelBits -Bitness $c.Bitness; $machines++ }
    }
}
$sweep = $clock.Elapsed.TotalSeconds
# The same calls on machines made once: what a sweep costs when it re-uses machines (boot excluded).
$pool = @($cases | ForEach-Object { New-EmuCpu -Vendor $_.Vendor -Kernel $_.Kernel -KernelBits $_.KernelBits -Bitness $_.Bitness })
$clock.Restart()
$reused = 0
for ($i = 0; $i -lt $pool.Count; $i++) {
    if ($pool[$i].TaskExited) { continue }
    $null = Invoke-Syscall -Cpu $pool[$i] -Number 20 -Via Int80 -Count 10
    $reused += 10
}
$batch = $clock.Elapsed.TotalSeconds
# The sweep as a batch: the machines booted first (as above, not timed), then one Invoke-Syscall per entry method with
# every machine that has it in -Cpu — each machine a scenario, without a cmdlet invocation per scenario.
$fresh = @($cases | ForEach-Object { [pscustomobject]@{ Case = $_; Cpu = New-EmuCpu -Vendor $_.Vendor -Kernel $_.Kernel -KernelBits $_.KernelBits -Bitness $_.Bitness } })
$clock.Restart()
$batchScenarios = 0
foreach ($m in 'Int80', 'Syscall', 'Vdso', 'Sysenter') {
    foreach ($bits in 32, 64) {
        $group = @($fresh | Where-Object { $_.Case.Bitness -eq $bits -and $m -in $_.Case.Methods -and -not $_.Cpu.TaskExited } | ForEach-Object Cpu)
        if ($group.Count -eq 0) { continue }
        $null = Invoke-Syscall -Cpu $group -Number ($(if ($bits -eq 64 -and $m -ne 'Int80') { 39 } else { 20 })) -Via $m -ErrorAction SilentlyContinue
        $batchScenarios += $group.Count
    }
}
$batchSweep = $clock.Elapsed.TotalSeconds

$cold = foreach ($i in 1..3) {
    $t = [Diagnostics.Stopwatch]::StartNew()
    & dotnet pwsh -NoProfile -NonInteractive -Command "Import-Module '$((Join-Path $Root 'SyscallTools.psd1'))'; `$null = New-EmuCpu | Invoke-Syscall getpid" | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "the cold-start run failed (exit code $LASTEXITCODE)" }
    $t.Elapsed.TotalSeconds
}
$coldBest = ($cold | Measure-Object -Minimum).Minimum

''
'| workload | figure |'
'|---|---:|'
'| W5 sweep: {0} machines booted, {1} Invoke-Syscall scenarios | {2:N0} scenarios/s ({3:F2} s) |' -f $machines, $scenarios, ($scenarios / $sweep), $sweep
'| W5 batch sweep: Invoke-Syscall -Cpu <all machines with the entry>, one invocation per entry method ({0} scenarios on {1} booted machines) | {2:N0} scenarios/s |' -f $batchScenarios, $fresh.Count, ($batchScenarios / $batchSweep)
'| W5 batch: Invoke-Syscall -Count 10 on {0} ready machines | {1:N0} calls/s |' -f $pool.Count, ($reused / $batch)
'| W6 cold start: pwsh, Import-Module, New-EmuCpu, Invoke-Syscall getpid (best of 3) | {0:F2} s |' -f $coldBest
Write-BenchJson 'W5' 'scenarios_per_second' ($scenarios / $sweep)
Write-BenchJson 'W5-batch-sweep' 'scenarios_per_second' ($batchScenarios / $batchSweep)
Write-BenchJson 'W5-batch' 'calls_per_second' ($reused / $batch)
Write-BenchJson 'W6' 'seconds' $coldBest
