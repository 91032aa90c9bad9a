#requires -Version 7.4
<#
.SYNOPSIS
    The one build entry point: Build, Test, Bench, Demo, Fuzz. CI calls it as it is (.ci/run).
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 -Task Test
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 -Task Demo
.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Fuzz -Minutes 10 -Seed 42
    Runs the fuzzers (tests/fuzz) round-robin for ten minutes from seed 42; prints the counts and, for any failing
    input, a reproducer. Replay one input with -Fuzzer NAME -Index N (same -Seed).
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Bench', 'Demo', 'Fuzz')]
    [string] $Task = 'Build',
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',
    # Loop iterations for the benchmark harness.
    [long] $BenchIterations = 50000000,
    # Fuzz: run for this many minutes (round-robin over the fuzzers)…
    [ValidateRange(0.01, 1440)]
    [double] $Minutes,
    # …or this many inputs per fuzzer (the default when -Minutes is not given: 200).
    [ValidateRange(1, [long]::MaxValue)]
    [long] $Count = 200,
    # Fuzz: the seed (default: a new one, printed first so the pass can be repeated).
    [ValidateRange(0, [long]::MaxValue)]
    [long] $Seed = -1,
    # Fuzz: only these fuzzers (user-code, kernel-code, syscall, ptregs-edit, elf-vdso).
    [string[]] $Fuzzer,
    # Fuzz: replay this one input (with -Seed and one -Fuzzer, as a reproducer prints them).
    [long] $Index = -1
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
# (Inside a function $PSBoundParameters is the function's own: remember which of the script's were given.)
$MinutesGiven = $PSBoundParameters.ContainsKey('Minutes')
$root = $PSScriptRoot
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'

function Invoke-Native([string] $what, [scriptblock] $command) {
    & $command
    if ($LASTEXITCODE -ne 0) { throw "$what failed (exit code $LASTEXITCODE)." }
}

function Invoke-Build {
    Invoke-Native 'dotnet build' { dotnet build (Join-Path $root 'SyscallTools.sln') -c $Configuration --nologo -v quiet }
}

# Pester comes from NuGet (tests/pester/tools/Pester.Restore.csproj) and is imported by path.
function Import-Pester {
    Invoke-Native 'Pester restore' { dotnet restore (Join-Path $root 'tests/pester/tools/Pester.Restore.csproj') --nologo -v quiet }
    $packages = (dotnet nuget locals global-packages --list) -replace '^global-packages:\s*', ''
    $manifest = Join-Path $packages.Trim() 'pester/6.2.0/tools/Pester.psd1'
    if (-not (Test-Path $manifest)) { throw "Pester 6.2.0 was restored but $manifest is missing." }
    Import-Module $manifest -Force
}

function Invoke-Test {
    Invoke-Build
    $results = Join-Path $root 'artifacts/test'
    if (Test-Path $results) { Remove-Item $results -Recurse -Force }
    # xunit: the TRX file gives exact counts.
    dotnet test (Join-Path $root 'tests/SyscallTools.Core.Tests') -c $Configuration --no-build --nologo `
        --logger 'trx;LogFileName=core.trx' --logger 'console;verbosity=minimal' --results-directory $results
    $trx = Join-Path $results 'core.trx'
    if (-not (Test-Path $trx)) { throw 'xunit produced no results file.' }
    $counters = ([xml](Get-Content $trx -Raw)).TestRun.ResultSummary.Counters
    $xPassed = [int]$counters.passed
    $xFailed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout + [int]$counters.aborted
    $xSkipped = [int]$counters.notExecuted

    Import-Pester
    $config = New-PesterConfiguration
    $config.Run.Path = Join-Path $root 'tests/pester'
    $config.Run.PassThru = $true
    $config.Output.Verbosity = 'Normal'
    $pester = Invoke-Pester -Configuration $config

    $passed = $xPassed + $pester.PassedCount
    $failed = $xFailed + $pester.FailedCount + $pester.FailedBlocksCount + $pester.FailedContainersCount
    $skipped = $xSkipped + $pester.SkippedCount
    Write-Host "xunit: $xPassed passed, $xFailed failed, $xSkipped skipped; Pester: $($pester.PassedCount) passed, $($pester.FailedCount) failed, $($pester.SkippedCount) skipped"
    Write-Host "$passed passed, $failed failed, $skipped skipped"
    if ($failed -gt 0 -or $passed -eq 0) { exit 1 }
}

function Invoke-Bench {
    Invoke-Build
    # W1-W4 with their peers (the host, QEMU user mode, Unicorn 2 when installed), then W5-W6 from PowerShell.
    # Built and run as a dll: `dotnet run … --nologo -- N` hands some SDKs' --nologo to the program, and the iterations were lost.
    Invoke-Native 'dotnet build (bench)' { dotnet build (Join-Path $root 'tests/bench') -c Release --nologo -v quiet }
    Invoke-Native 'benchmark' { dotnet (Join-Path $root 'tests/bench/bin/Release/net10.0/SyscallTools.Bench.dll') $BenchIterations }
    & (Join-Path $root 'tests/bench/Cmdlets.Bench.ps1') -Root $root
}

# The fuzzers (tests/fuzz): seeded and reproducible; a non-zero exit when any oracle failed, with a reproducer printed.
function Invoke-Fuzz {
    Invoke-Native 'dotnet build (fuzz)' { dotnet build (Join-Path $root 'tests/fuzz') -c $Configuration --nologo -v quiet }
    $arguments = [System.Collections.Generic.List[string]]::new()
    if ($Seed -lt 0) { $Seed = [System.Random]::Shared.NextInt64(0, [int]::MaxValue) }
    $arguments.AddRange([string[]]@('--seed', "$Seed"))
    if ($MinutesGiven) { $arguments.AddRange([string[]]@('--minutes', $Minutes.ToString([cultureinfo]::InvariantCulture))) }
    else { $arguments.AddRange([string[]]@('--count', "$Count")) }
    if ($Fuzzer) { $arguments.AddRange([string[]]@('--fuzzer', ($Fuzzer -join ','))) }
    if ($Index -ge 0) { $arguments.AddRange([string[]]@('--index', "$Index")) }
    $dll = Join-Path $root "tests/fuzz/bin/$Configuration/net10.0/SyscallTools.Fuzz.dll"
    & dotnet $dll @arguments
    if ($LASTEXITCODE -ne 0) {
        Write-Host "fuzz: failed (exit code $LASTEXITCODE); rerun a failing input with the reproducer above."
        exit $LASTEXITCODE
    }
}

function Invoke-Demo {
    Invoke-Build
    & (Join-Path $root 'examples/00-headline.ps1')
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Test' { Invoke-Test }
    'Bench' { Invoke-Bench }
    'Demo' { Invoke-Demo }
    'Fuzz' { Invoke-Fuzz }
}
