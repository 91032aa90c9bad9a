# Bad input, across every cmdlet: wrong types, out-of-range numbers, unknown names, impossible model/bitness pairs,
# malformed assembly, edits the kernel rejects, bad files, machines that can run nothing more. One row per input. Each
# row asserts the exact FullyQualifiedErrorId — the module's stable id (src/SyscallTools/Errors/ErrorIds.cs) or, where
# PowerShell's parameter binder refuses the input before the cmdlet runs, the binder's own — and that the machine the
# command was given is exactly as it was: registers, RIP and CPL, pt_regs on the kernel stack, pending tracer edits and
# the tracer, the mapped pages, the vDSO, the last result.
BeforeDiscovery {
    $NewCpu = 'SyscallTools.Commands.NewEmuCpuCommand'
    $Invoke = 'SyscallTools.Commands.InvokeSyscallCommand'
    $Code = 'SyscallTools.Commands.InvokeEmuCodeCommand'
    $Set = 'SyscallTools.Commands.SetPtRegsCommand'
    $Exit = 'SyscallTools.Commands.GetExitPathCommand'
    $Import = 'SyscallTools.Commands.ImportEmuVdsoCommand'
    $Unwind = 'SyscallTools.Commands.TestVdsoUnwindCommand'
    $Trace = 'SyscallTools.Commands.GetEmuTraceCommand'
    $Measure = 'SyscallTools.Commands.MeasureSyscallPathCommand'
    $Compare = 'SyscallTools.Commands.CompareEmuKernelCommand'
    $HostCompare = 'SyscallTools.Commands.CompareHostKernelCommand'
    $HostMeasure = 'SyscallTools.Commands.MeasureHostSyscallCommand'
    $Start = 'SyscallTools.Commands.StartEmuProcessCommand'
    # Machine: which machine the row gets ($null: none). Prepare: run before the snapshot (its output is $prepared).
    $rows = @(
        # ---- New-EmuCpu, Get-EmuKernel, Get-EmuCpuProfile: names and pairs
        @{ Name = 'New-EmuCpu -Vendor Zilog (not a vendor)'; Id = "ParameterArgumentValidationError,$NewCpu"; Run = { New-EmuCpu -Vendor Zilog } }
        @{ Name = 'New-EmuCpu -Kernel linux-9.9 (unknown model)'; Id = "SyscallTools.UnknownKernel,$NewCpu"; Run = { New-EmuCpu -Kernel linux-9.9 } }
        @{ Name = 'New-EmuCpu -Kernel "" (empty name)'; Id = "ParameterArgumentValidationError,$NewCpu"; Run = { New-EmuCpu -Kernel '' } }
        @{ Name = 'New-EmuCpu -KernelBits 16 (out of range)'; Id = "ParameterArgumentValidationError,$NewCpu"; Run = { New-EmuCpu -KernelBits 16 } }
        @{ Name = 'New-EmuCpu -Bitness abc (wrong type)'; Id = "CannotConvertArgumentNoMessage,$NewCpu"; Run = { New-EmuCpu -Bitness abc } }
        @{ Name = 'New-EmuCpu -KernelBits 32 -Bitness 64 (impossible pair)'; Id = "SyscallTools.InvalidCombination,$NewCpu"; Run = { New-EmuCpu -KernelBits 32 -Bitness 64 } }
        @{ Name = 'Get-EmuKernel linux-1.0 (unknown model)'; Id = 'SyscallTools.UnknownKernel,SyscallTools.Commands.GetEmuKernelCommand'; Run = { Get-EmuKernel linux-1.0 } }
        @{ Name = 'Get-EmuCpuProfile Cyrix (unknown vendor)'; Id = 'SyscallTools.UnknownVendor,SyscallTools.Commands.GetEmuCpuProfileCommand'; Run = { Get-EmuCpuProfile Cyrix } }

        # ---- Invoke-Syscall
        @{ Name = 'Invoke-Syscall frobnicate (no such call)'; Machine = 'c32'; Id = "SyscallTools.UnknownSyscall,$Invoke"; Run = { param($cpu) $cpu | Invoke-Syscall frobnicate } }
        @{ Name = 'Invoke-Syscall arch_prctl on a 32-bit task (x86-64 only)'; Machine = 'c32'; Id = "SyscallTools.UnknownSyscall,$Invoke"; Run = { param($cpu) $cpu | Invoke-Syscall arch_prctl } }
        @{ Name = 'Invoke-Syscall socketcall on a 64-bit task (i386 only)'; Machine = 'c64'; Id = "SyscallTools.UnknownSyscall,$Invoke"; Run = { param($cpu) $cpu | Invoke-Syscall socketcall } }
        @{ Name = 'Invoke-Syscall with seven arguments'; Machine = 'c32'; Id = "ParameterArgumentValidationError,$Invoke"; Run = { param($cpu) $cpu | Invoke-Syscall getpid 1, 2, 3, 4, 5, 6, 7 } }
        @{ Name = 'Invoke-Syscall -Count 0'; Machine = 'c32'; Id = "ParameterArgumentValidationError,$Invoke"; Run = { param($cpu) $cpu | Invoke-Syscall getpid -Count 0 } }
        @{ Name = 'Invoke-Syscall -MaxInstructions 0'; Machine = 'c32'; Id = "ParameterArgumentValidationError,$Invoke"; Run = { param($cpu) $cpu | Invoke-Syscall getpid -MaxInstructions 0 } }
        @{ Name = 'Invoke-Syscall -Via Teleport (no such entry)'; Machine = 'c32'; Id = "CannotConvertArgumentNoMessage,$Invoke"; Run = { param($cpu) $cpu | Invoke-Syscall getpid -Via Teleport } }
        @{ Name = 'Invoke-Syscall -ArgumentList abc (wrong type)'; Machine = 'c32'; Id = "CannotConvertArgumentNoMessage,$Invoke"; Run = { param($cpu) $cpu | Invoke-Syscall getpid -ArgumentList abc } }
        @{ Name = 'Invoke-Syscall -Number 99999999999999999999 (does not fit)'; Machine = 'c32'; Id = "CannotConvertArgumentNoMessage,$Invoke"; Run = { param($cpu) $cpu | Invoke-Syscall -Number 99999999999999999999 } }
        @{ Name = 'Invoke-Syscall -Cpu "notacpu" (wrong type)'; Id = "CannotConvertArgumentNoMessage,$Invoke"; Run = { Invoke-Syscall -Cpu 'notacpu' getpid } }
        @{ Name = 'Invoke-Syscall -Via Vdso on a 64-bit task'; Machine = 'c64'; Id = "SyscallTools.InvalidCombination,$Invoke"; Run = { param($cpu) $cpu | Invoke-Syscall getpid -Via Vdso } }
        @{ Name = 'Invoke-Syscall -Via Vdso on a -NoVdso machine'; Machine = 'novdso'; Id = "SyscallTools.InvalidCombination,$Invoke"; Run = { param($cpu) $cpu | Invoke-Syscall getpid -Via Vdso } }
        @{ Name = 'Invoke-Syscall after the task exited'; Machine = 'dead'; Id = "SyscallTools.TaskExited,$Invoke"; Run = { param($cpu) $cpu | Invoke-Syscall getpid } }

        # ---- Invoke-EmuCode: malformed assembly and code
        @{ Name = 'Invoke-EmuCode "mov eax," (missing operand)'; Machine = 'c32'; Id = "SyscallTools.InvalidAssembly,$Code"; Run = { param($cpu) $cpu | Invoke-EmuCode 'mov eax,' } }
        @{ Name = 'Invoke-EmuCode "frob eax" (unknown mnemonic)'; Machine = 'c32'; Id = "SyscallTools.InvalidAssembly,$Code"; Run = { param($cpu) $cpu | Invoke-EmuCode 'frob eax' } }
        @{ Name = 'Invoke-EmuCode "mov rax, 1" on a 32-bit task'; Machine = 'c32'; Id = "SyscallTools.InvalidAssembly,$Code"; Run = { param($cpu) $cpu | Invoke-EmuCode 'mov rax, 1' } }
        @{ Name = 'Invoke-EmuCode "jmp nowhere" (undefined label)'; Machine = 'c64'; Id = "SyscallTools.InvalidAssembly,$Code"; Run = { param($cpu) $cpu | Invoke-EmuCode 'jmp nowhere' } }
        @{ Name = 'Invoke-EmuCode "" (empty line)'; Machine = 'c32'; Id = "ParameterArgumentValidationError,$Code"; Run = { param($cpu) $cpu | Invoke-EmuCode '' } }
        @{ Name = 'Invoke-EmuCode -Bytes of 40000 bytes (more than the code area)'; Machine = 'c32'; Id = "SyscallTools.InvalidAssembly,$Code"; Run = { param($cpu) $cpu | Invoke-EmuCode -Bytes ([byte[]]::new(40000)) } }
        @{ Name = 'Invoke-EmuCode -Bytes 300 (not a byte)'; Machine = 'c32'; Id = "CannotConvertArgumentNoMessage,$Code"; Run = { param($cpu) $cpu | Invoke-EmuCode -Bytes 300 } }
        @{ Name = 'Invoke-EmuCode -MaxInstructions -5'; Machine = 'c32'; Id = "ParameterArgumentValidationError,$Code"; Run = { param($cpu) $cpu | Invoke-EmuCode nop -MaxInstructions -5 } }
        @{ Name = 'Invoke-EmuCode after the task exited'; Machine = 'dead'; Id = "SyscallTools.TaskExited,$Code"; Run = { param($cpu) $cpu | Invoke-EmuCode nop } }

        # ---- Set-PtRegs: names, values, and edits the kernel's putreg rejects
        @{ Name = 'Set-PtRegs -Register @{ r11 } on a 32-bit task'; Machine = 'c32'; Id = "SyscallTools.UnknownRegister,$Set"; Run = { param($cpu) Set-PtRegs $cpu -At SyscallExit -Register @{ r11 = 1 } } }
        @{ Name = 'Set-PtRegs -Register @{ bogus }'; Machine = 'c64'; Id = "SyscallTools.UnknownRegister,$Set"; Run = { param($cpu) Set-PtRegs $cpu -At SyscallExit -Register @{ bogus = 1 } } }
        @{ Name = 'Set-PtRegs -Cs 0x10 (RPL 0: putreg says -EIO)'; Machine = 'c32'; Id = "SyscallTools.RejectedRegisterWrite,$Set"; Run = { param($cpu) Set-PtRegs $cpu -At SyscallExit -Cs 0x10 } }
        @{ Name = 'Set-PtRegs -Ss 0 (null selector: -EIO)'; Machine = 'c64'; Id = "SyscallTools.RejectedRegisterWrite,$Set"; Run = { param($cpu) Set-PtRegs $cpu -At SyscallEntry -Ss 0 } }
        @{ Name = 'Set-PtRegs -Cs 0x12345 (not 16 bits: -EIO)'; Machine = 'k32'; Id = "SyscallTools.RejectedRegisterWrite,$Set"; Run = { param($cpu) Set-PtRegs $cpu -At SyscallExit -Cs 0x12345 } }
        @{ Name = 'Set-PtRegs -Ip 0x100000000 on a 32-bit task (does not fit)'; Machine = 'c32'; Id = "SyscallTools.InvalidRegisterValue,$Set"; Run = { param($cpu) Set-PtRegs $cpu -At SyscallExit -Ip 0x100000000 } }
        @{ Name = 'Set-PtRegs -Register @{ ax = "banana" }'; Machine = 'c32'; Id = "SyscallTools.InvalidRegisterValue,$Set"; Run = { param($cpu) Set-PtRegs $cpu -At SyscallExit -Register @{ ax = 'banana' } } }
        @{ Name = 'Set-PtRegs -Register @{ ax = $null }'; Machine = 'c32'; Id = "SyscallTools.InvalidRegisterValue,$Set"; Run = { param($cpu) Set-PtRegs $cpu -At SyscallExit -Register @{ ax = $null } } }
        @{ Name = 'Set-PtRegs -Ip banana (not a register value)'; Machine = 'c32'; Id = "ParameterArgumentTransformationError,$Set"; Run = { param($cpu) Set-PtRegs $cpu -At SyscallExit -Ip banana } }
        @{ Name = 'Set-PtRegs with nothing to write'; Machine = 'c32'; Id = "SyscallTools.InvalidCombination,$Set"; Run = { param($cpu) Set-PtRegs $cpu -At SyscallExit } }
        @{ Name = 'Set-PtRegs -At Somewhere (no such stop)'; Machine = 'c32'; Id = "CannotConvertArgumentNoMessage,$Set"; Run = { param($cpu) Set-PtRegs $cpu -At Somewhere -Ax 1 } }
        @{ Name = 'Set-PtRegs after the task exited'; Machine = 'dead'; Id = "SyscallTools.TaskExited,$Set"; Run = { param($cpu) Set-PtRegs $cpu -At SyscallExit -Ax 1 } }

        # ---- Get-ExitPath, Get-EmuTrace, Get-EmuVdso, Get-PtRegs
        @{ Name = 'Get-ExitPath -Entry Syscall64 on a 32-bit kernel'; Machine = 'k32'; Id = "SyscallTools.InvalidCombination,$Exit"; Run = { param($cpu) Get-ExitPath -Cpu $cpu -Entry Syscall64 } }
        @{ Name = 'Get-ExitPath -R11 on a 32-bit kernel'; Machine = 'k32'; Id = "SyscallTools.UnknownRegister,$Exit"; Run = { param($cpu) Get-ExitPath -Cpu $cpu -Entry Fast32 -R11 1 } }
        @{ Name = 'Get-ExitPath -Ip 0x100000000 on a 32-bit kernel'; Machine = 'k32'; Id = "SyscallTools.InvalidRegisterValue,$Exit"; Run = { param($cpu) Get-ExitPath -Cpu $cpu -Entry Int80 -Ip 0x100000000 } }
        @{ Name = 'Get-ExitPath -Entry Bogus'; Machine = 'c32'; Id = "CannotConvertArgumentNoMessage,$Exit"; Run = { param($cpu) Get-ExitPath -Cpu $cpu -Entry Bogus } }
        @{ Name = 'Get-ExitPath of a call whose SYSENTER #UDs (AMD, 64-bit task)'; Machine = 'amd64'; Id = "SyscallTools.NoExitPath,$Exit"
           Prepare = { param($cpu) $cpu | Invoke-Syscall getpid -Via Sysenter }; Run = { param($cpu, $prepared) $prepared | Get-ExitPath } }
        @{ Name = 'Get-EmuTrace of a result made without -Trace'; Machine = 'c32'; Id = "SyscallTools.NoTrace,$Trace"
           Prepare = { param($cpu) $cpu | Invoke-Syscall getpid }; Run = { param($cpu, $prepared) $prepared | Get-EmuTrace } }
        @{ Name = 'Get-EmuTrace of a string'; Id = "SyscallTools.UnsupportedInput,$Trace"; Run = { 'hello' | Get-EmuTrace } }
        @{ Name = 'Get-EmuTrace -Kind bogus'; Machine = 'c32'; Id = "ParameterArgumentValidationError,$Trace"
           Prepare = { param($cpu) $cpu | Invoke-Syscall getpid -Trace }; Run = { param($cpu, $prepared) $prepared | Get-EmuTrace -Kind bogus } }
        @{ Name = 'Get-EmuVdso of a 64-bit task'; Machine = 'c64'; Id = 'SyscallTools.InvalidCombination,SyscallTools.Commands.GetEmuVdsoCommand'; Run = { param($cpu) Get-EmuVdso $cpu } }
        @{ Name = 'Get-PtRegs -Cpu $null'; Id = 'ParameterArgumentValidationErrorNullNotAllowed,SyscallTools.Commands.GetPtRegsCommand'; Run = { Get-PtRegs -Cpu $null } }

        # ---- Import-EmuVdso: bad files and machines that cannot take one
        @{ Name = 'Import-EmuVdso of a missing file'; Machine = 'c32'; Id = "SyscallTools.InvalidVdsoImage,$Import"; Run = { param($cpu) $cpu | Import-EmuVdso (Join-Path $TestDrive 'missing.so') } }
        @{ Name = 'Import-EmuVdso of a text file'; Machine = 'c32'; Id = "SyscallTools.InvalidVdsoImage,$Import"; Run = { param($cpu) $cpu | Import-EmuVdso $NotElf } }
        @{ Name = 'Import-EmuVdso of a truncated vDSO'; Machine = 'c32'; Id = "SyscallTools.InvalidVdsoImage,$Import"; Run = { param($cpu) $cpu | Import-EmuVdso $Truncated } }
        @{ Name = 'Import-EmuVdso of an ELF64 image'; Machine = 'c32'; Id = "SyscallTools.InvalidVdsoImage,$Import"; Run = { param($cpu) $cpu | Import-EmuVdso $Elf64 } }
        @{ Name = 'Import-EmuVdso of a directory'; Machine = 'c32'; Id = "SyscallTools.InvalidVdsoImage,$Import"; Run = { param($cpu) $cpu | Import-EmuVdso $TestDrive } }
        @{ Name = 'Import-EmuVdso on a 64-bit task'; Machine = 'c64'; Id = "SyscallTools.InvalidCombination,$Import"; Run = { param($cpu) $cpu | Import-EmuVdso $GoodVdso } }
        @{ Name = 'Import-EmuVdso on linux-4.2 (no landing pad)'; Machine = 'k42'; Id = "SyscallTools.InvalidCombination,$Import"; Run = { param($cpu) $cpu | Import-EmuVdso $GoodVdso } }
        @{ Name = 'Import-EmuVdso after the task exited'; Machine = 'dead'; Id = "SyscallTools.TaskExited,$Import"; Run = { param($cpu) $cpu | Import-EmuVdso $GoodVdso } }

        # ---- Test-VdsoUnwind
        @{ Name = 'Test-VdsoUnwind -Name bogus'; Machine = 'c32'; Id = "SyscallTools.UnknownSyscall,$Unwind"; Run = { param($cpu) Test-VdsoUnwind $cpu -Name bogus } }
        @{ Name = 'Test-VdsoUnwind on a 64-bit task'; Machine = 'c64'; Id = "SyscallTools.InvalidCombination,$Unwind"; Run = { param($cpu) Test-VdsoUnwind $cpu } }
        @{ Name = 'Test-VdsoUnwind with seven arguments'; Machine = 'c32'; Id = "ParameterArgumentValidationError,$Unwind"; Run = { param($cpu) Test-VdsoUnwind $cpu -ArgumentList 1, 2, 3, 4, 5, 6, 7 } }
        @{ Name = 'Test-VdsoUnwind after the task exited'; Machine = 'dead'; Id = "SyscallTools.TaskExited,$Unwind"; Run = { param($cpu) Test-VdsoUnwind $cpu } }
        # ---- Start-EmuProcess: the program file, its kind, the virtual files and input
        @{ Name = 'Start-EmuProcess of a file that does not exist'; Machine = 'c32'; Id = "SyscallTools.ProgramNotFound,$Start"; Run = { param($cpu) $cpu | Start-EmuProcess (Join-Path $TestDrive 'no-such-program') } }
        @{ Name = 'Start-EmuProcess of a directory'; Machine = 'c32'; Id = "SyscallTools.ProgramNotFound,$Start"; Run = { param($cpu) $cpu | Start-EmuProcess $TestDrive } }
        @{ Name = 'Start-EmuProcess of a text file (not ELF)'; Machine = 'c32'; Id = "SyscallTools.InvalidProgram,$Start"; Run = { param($cpu) $cpu | Start-EmuProcess $NotElf } }
        @{ Name = 'Start-EmuProcess of a truncated ELF'; Machine = 'c32'; Id = "SyscallTools.InvalidProgram,$Start"; Run = { param($cpu) $cpu | Start-EmuProcess $TruncatedProgram } }
        @{ Name = 'Start-EmuProcess of a dynamically linked program (PT_INTERP)'; Machine = 'c32'; Id = "SyscallTools.DynamicProgram,$Start"; Run = { param($cpu) $cpu | Start-EmuProcess $DynamicProgram } }
        @{ Name = 'Start-EmuProcess of a 64-bit program on a 32-bit task'; Machine = 'c32'; Id = "SyscallTools.InvalidCombination,$Start"; Run = { param($cpu) $cpu | Start-EmuProcess $Program64 } }
        @{ Name = 'Start-EmuProcess of a 32-bit program on a 64-bit task'; Machine = 'c64'; Id = "SyscallTools.InvalidCombination,$Start"; Run = { param($cpu) $cpu | Start-EmuProcess $Program32 } }
        @{ Name = 'Start-EmuProcess -File with a relative path'; Machine = 'c32'; Id = "SyscallTools.InvalidVirtualFile,$Start"; Run = { param($cpu) $cpu | Start-EmuProcess $Program32 -File @{ 'data.txt' = 'x' } } }
        @{ Name = 'Start-EmuProcess -File with a number as contents'; Machine = 'c32'; Id = "SyscallTools.InvalidVirtualFile,$Start"; Run = { param($cpu) $cpu | Start-EmuProcess $Program32 -File @{ '/data.txt' = 42 } } }
        @{ Name = 'Start-EmuProcess -StandardInput of a number'; Machine = 'c32'; Id = "SyscallTools.InvalidCombination,$Start"; Run = { param($cpu) $cpu | Start-EmuProcess $Program32 -StandardInput 42 } }
        @{ Name = 'Start-EmuProcess with 300 KB of arguments (E2BIG)'; Machine = 'c32'; Id = "SyscallTools.InvalidCombination,$Start"; Run = { param($cpu) $cpu | Start-EmuProcess $Program32 -ArgumentList ('a' * 300000) } }
        @{ Name = 'Start-EmuProcess -MaxInstructions 0'; Machine = 'c32'; Id = "ParameterArgumentValidationError,$Start"; Run = { param($cpu) $cpu | Start-EmuProcess $Program32 -MaxInstructions 0 } }
        @{ Name = 'Start-EmuProcess after the task exited'; Machine = 'dead'; Id = "SyscallTools.TaskExited,$Start"; Run = { param($cpu) $cpu | Start-EmuProcess $Program32 } }
        # ---- Measure-SyscallPath, Compare-EmuKernel, Compare-HostKernel, Measure-HostSyscall
        @{ Name = 'Measure-SyscallPath -Scenario nope (unknown scenario)'; Machine = 'c32'; Id = "SyscallTools.UnknownScenario,$Measure"; Run = { param($cpu) $cpu | Measure-SyscallPath -Scenario nope } }
        @{ Name = 'Measure-SyscallPath -CostTable @{ sysret = -1 } (not a cycle count)'; Machine = 'c32'; Id = "SyscallTools.InvalidCostTable,$Measure"; Run = { param($cpu) $cpu | Measure-SyscallPath -CostTable @{ sysret = -1 } } }
        @{ Name = 'Measure-SyscallPath -CostTable @{ warp = 1 } (unknown key)'; Machine = 'c32'; Id = "SyscallTools.InvalidCostTable,$Measure"; Run = { param($cpu) $cpu | Measure-SyscallPath -CostTable @{ warp = 1 } } }
        @{ Name = 'Measure-SyscallPath -Kernel linux-9.9 (unknown model)'; Machine = 'c32'; Id = "SyscallTools.UnknownKernel,$Measure"; Run = { param($cpu) $cpu | Measure-SyscallPath -Kernel linux-9.9 } }
        @{ Name = 'Compare-EmuKernel -Kernel linux-4.4, linux-9.9 (unknown model)'; Machine = 'c32'; Id = "SyscallTools.UnknownKernel,$Compare"; Run = { param($cpu) $cpu | Compare-EmuKernel -Kernel linux-4.4, linux-9.9 } }
        @{ Name = 'Compare-EmuKernel -Scenario nope (unknown scenario)'; Machine = 'c32'; Id = "SyscallTools.UnknownScenario,$Compare"; Run = { param($cpu) $cpu | Compare-EmuKernel -Scenario nope } }
        @{ Name = 'Compare-HostKernel nope (unknown scenario)'; Id = "SyscallTools.UnknownScenario,$HostCompare"; Run = { Compare-HostKernel nope } }
        @{ Name = 'Measure-HostSyscall teleport-32 (unknown entry method)'; Id = "SyscallTools.UnknownEntryMethod,$HostMeasure"; Run = { Measure-HostSyscall teleport-32 } }
    )
    # Every row has every key (build.ps1 runs the tests under Set-StrictMode -Version Latest).
    foreach ($row in $rows) { foreach ($key in 'Machine', 'Prepare') { if (-not $row.ContainsKey($key)) { $row[$key] = $null } } }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../SyscallTools.psd1') -Force

    function New-Machine([string] $Kind) {
        switch ($Kind) {
            'c32' { New-EmuCpu -Vendor Intel }
            'c64' { New-EmuCpu -Vendor Intel -Bitness 64 }
            'amd64' { New-EmuCpu -Vendor AMD -Bitness 64 }
            'k32' { New-EmuCpu -Vendor AMD -KernelBits 32 }
            'k42' { New-EmuCpu -Vendor Intel -Kernel linux-4.2 }
            'novdso' { New-EmuCpu -NoVdso }
            'dead' { $c = New-EmuCpu; $null = $c | Invoke-Syscall exit 3; $c }
        }
    }

    # Everything a failed command must leave alone, as one string.
    function Get-MachineState($cpu) {
        $m = $cpu.Machine
        $size = if ($m.KernelBits -eq 64) { 0xA8 } else { 0x44 }
        @(
            [SyscallTools.Core.Linux.RegisterSnapshot]::Of($m.Cpu).ToString()
            'rip={0:x} cpl={1} mode={2} retired={3}' -f $m.Cpu.Rip, $m.Cpu.Cpl, $m.Cpu.Mode, $m.Cpu.InstructionsRetired
            'pt_regs=' + [Convert]::ToHexString($m.Memory.ReadBytes($m.PtRegsAddress, $size))
            "edits=$($cpu.PendingEdits.Count) tracer=$($m.Tracer.Attached) exited=$($m.Task.Exited) pages=$($m.Memory.PageCount)"
            "vdso=$($cpu.Vdso) last=$([object]::ReferenceEquals($cpu.LastSyscall, $null) ? 'none' : $cpu.LastSyscall.GetHashCode())"
        ) -join "`n"
    }

    # Files for Import-EmuVdso: a good image (the machine's own), a truncated one, an ELF64 one, a text file.
    $vdso = (New-EmuCpu).Machine.Vdso
    $bytes = if ($vdso.File) { $vdso.File } else { $vdso.Bytes }
    $GoodVdso = Join-Path $TestDrive 'vdso32.so'
    [IO.File]::WriteAllBytes($GoodVdso, $bytes)
    $Truncated = Join-Path $TestDrive 'truncated.so'
    [IO.File]::WriteAllBytes($Truncated, $bytes[0..99])
    $Elf64 = Join-Path $TestDrive 'elf64.so'
    $b64 = [byte[]]$bytes.Clone(); $b64[4] = 2                    # EI_CLASS = ELFCLASS64
    [IO.File]::WriteAllBytes($Elf64, $b64)
    $NotElf = Join-Path $TestDrive 'notelf.txt'
    Set-Content -Path $NotElf -Value 'this is not an ELF file'
    # Programs for Start-EmuProcess, written without a compiler: exit(7) as i386 and x86-64 ELF executables, the 32-bit
    # one cut short, and one whose second program header says PT_INTERP (a dynamically linked program).
    $exitCode = [byte[]](0xBB, 7, 0, 0, 0, 0xB8, 1, 0, 0, 0, 0xCD, 0x80)
    $p32 = [SyscallTools.Core.Elf.ElfExecutableWriter]::WriteArrays(32, 0x8048000, $exitCode, 0x8048100, 0x8058000, [byte[]]@(1), 0x1000)
    $p64 = [SyscallTools.Core.Elf.ElfExecutableWriter]::WriteArrays(64, 0x400000, $exitCode, 0x400100, 0x410000, [byte[]]@(1), 0x1000)
    $Program32 = Join-Path $TestDrive 'exit7-32'; [IO.File]::WriteAllBytes($Program32, $p32)
    $Program64 = Join-Path $TestDrive 'exit7-64'; [IO.File]::WriteAllBytes($Program64, $p64)
    $TruncatedProgram = Join-Path $TestDrive 'truncated-32'; [IO.File]::WriteAllBytes($TruncatedProgram, $p32[0..39])
    $dyn = [byte[]]$p32.Clone()
    $phoff = [BitConverter]::ToInt32($p32, 28)
    [BitConverter]::GetBytes([uint32]3).CopyTo($dyn, $phoff + 32)
    $DynamicProgram = Join-Path $TestDrive 'dynamic-32'; [IO.File]::WriteAllBytes($DynamicProgram, $dyn)
}

Describe 'Bad input' {
    It 'the table has at least 30 rows and covers every cmdlet' -ForEach @(@{ Table = $rows }) {
        $Table.Count | Should -BeGreaterOrEqual 30
        $covered = $Table.Id | ForEach-Object { ($_ -split ',')[1] -replace '^SyscallTools\.Commands\.', '' -replace 'Command$', '' } | Sort-Object -Unique
        $all = (Get-Command -Module SyscallTools).Name | ForEach-Object { $_ -replace '-', '' }
        foreach ($c in $all) { $covered | Should -Contain $c -Because "every cmdlet gets bad input ($c)" }
    }

    It '<Name>: <Id>' -ForEach $rows {
        $cpu = if ($Machine) { New-Machine $Machine }
        $prepared = if ($Prepare) { & $Prepare $cpu }
        $before = if ($cpu) { Get-MachineState $cpu }
        $errors = [System.Collections.Generic.List[System.Management.Automation.ErrorRecord]]::new()
        $output = @()
        try {
            $output = @(& $Run $cpu $prepared 2>&1 | ForEach-Object {
                    if ($_ -is [System.Management.Automation.ErrorRecord]) { $errors.Add($_) } else { $_ }
                })
        }
        catch { $errors.Add($_) }
        $errors.Count | Should -Be 1 -Because 'one bad input gives exactly one error'
        $errors[0].FullyQualifiedErrorId | Should -BeExactly $Id
        $errors[0].Exception | Should -Not -BeOfType [System.NullReferenceException]
        $errors[0].Exception.Message | Should -Not -BeNullOrEmpty
        $output | Should -BeNullOrEmpty -Because 'a refused command writes no object'
        if ($cpu) { Get-MachineState $cpu | Should -BeExactly $before -Because 'a refused command changes nothing' }
    }
}

# A tracer scriptblock that fails is reported with a stable id, and the kernel survives it: the call completes.
Describe 'Bad input inside a tracer stop' {
    It 'a -ScriptBlock that throws: <Name>' -ForEach @(
        @{ Name = 'throw'; Script = { throw 'boom' } }
        @{ Name = 'a poke putreg refuses (cs = 0)'; Script = { $_.Poke('cs', 0) } }
        @{ Name = 'a register the tracee does not have (r11 on a 32-bit task)'; Script = { $_.Poke('r11', 1) } }
    ) {
        $cpu = New-EmuCpu
        Set-PtRegs $cpu -At SyscallExit -ScriptBlock $Script
        $r = $cpu | Invoke-Syscall getpid -ErrorVariable err -ErrorAction SilentlyContinue
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeExactly 'SyscallTools.TracerScriptFailed,SyscallTools.Commands.InvokeSyscallCommand'
        $r.Return | Should -Be 4242
        $r.Oops | Should -BeNullOrEmpty
        ($cpu | Invoke-Syscall getpid).Return | Should -Be 4242 -Because 'the machine stays usable'
    }
}
