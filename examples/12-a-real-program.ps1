# 12 — A real program, every system call through the modelled paths.
#
# gcc builds two small C programs of tests/fixtures as static i386 and x86-64 executables: hello (prints its arguments
# and one environment variable) and signal_read (a SIGALRM handler, installed without SA_RESTART, interrupts a read()
# that would block for ever). Start-EmuProcess loads each as execve does and runs it; glibc's start-up makes its usual
# calls (brk, set_thread_area or arch_prctl, set_tid_address, set_robust_list, rseq, prlimit64, readlink, getrandom...).
#
# What to look for:
#   * a 32-bit program enters by int $0x80 (and leaves by IRET) until its thread pointer holds AT_SYSINFO, then calls
#     __kernel_vsyscall: SYSCALL on AMD, SYSENTER on Intel, both leaving by SYSRETL on a 64-bit linux-6.18 kernel;
#   * the interrupted read leaves by IRET (the signal frame moved IP to the handler) and sigreturn brings -EINTR;
#   * rseq is answered -ENOSYS (the model is a kernel without CONFIG_RSEQ) and glibc carries on;
#   * the output and exit status are those of the same file run on this machine's kernel.
# Without gcc (or gcc-multilib for the 32-bit programs) the example says so and shows nothing else.
param(
    # Write the objects to the pipeline instead of showing them (the examples test uses this).
    [switch] $PassThru
)
Import-Module (Join-Path $PSScriptRoot '../SyscallTools.psd1') -Force

$dir = Join-Path ([IO.Path]::GetTempPath()) 'syscalltools-example-12'
$built = if ($IsLinux) { & sh (Join-Path $PSScriptRoot '../tests/fixtures/build.sh') $dir 2>&1; $LASTEXITCODE } else { -1 }
if ($built -ne 0 -or -not (Test-Path (Join-Path $dir 'hello-32'))) {
    $row = [pscustomobject]@{ Program = 'hello-32'; Skipped = 'gcc with a 32-bit static libc (gcc-multilib) is needed to build the programs' }
    if ($PassThru) { $row } else { Write-Warning $row.Skipped }
    return
}

$rows = foreach ($run in @(
        @{ Program = 'hello-32'; Vendor = 'AMD'; Bitness = 32 },
        @{ Program = 'hello-32'; Vendor = 'Intel'; Bitness = 32 },
        @{ Program = 'hello-64'; Vendor = 'AMD'; Bitness = 64 },
        @{ Program = 'signal_read-32'; Vendor = 'AMD'; Bitness = 32 })) {
    $path = Join-Path $dir $run.Program
    $r = New-EmuCpu -Vendor $run.Vendor -Bitness $run.Bitness | Start-EmuProcess $path -ArgumentList 'from', 'the emulator' -Environment @{ FIXTURE_WHO = 'example 12' }
    $hostOut = (& env -i 'FIXTURE_WHO=example 12' $path 'from' 'the emulator' | Out-String)
    [pscustomobject]@{
        Program         = $run.Program
        Vendor          = $run.Vendor
        ExitStatus      = $r.ExitStatus
        FirstLine       = ($r.Stdout -split "`n")[0]
        SameAsHost      = $r.Stdout -ceq $hostOut
        Syscalls        = $r.Syscalls.Count
        Entries         = (@($r.Syscalls | Group-Object { "$($_.EntryInstruction)$(if ($_.ViaVdso) { ' (vDSO)' })" } | ForEach-Object { "$($_.Count) $($_.Name)" }) -join ', ')
        Exits           = (@($r.Syscalls | Where-Object ExitInstruction | Group-Object ExitInstruction | ForEach-Object { "$($_.Count) $($_.Name)" }) -join ', ')
        NotModelled     = $r.NotModelledSyscalls -join ', '
        Instructions    = '{0:N0} user, {1:N0} kernel' -f $r.UserInstructions, $r.KernelInstructions
        Result          = $r
    }
}

if ($PassThru) { $rows } else {
    $rows | Format-Table Program, Vendor, ExitStatus, SameAsHost, Syscalls, Entries, Exits, NotModelled -AutoSize -Wrap
    'The signal_read run, call by call:'
    $rows[-1].Result.Syscalls | Select-Object -Last 7 | Format-Table -AutoSize
}
