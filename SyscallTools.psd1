@{
    RootModule           = 'artifacts/bin/SyscallTools.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '6f0d2b8e-1c5a-4a43-9b7e-3d2f1a9c8e55'
    Author               = 'SyscallTools developers'
    CompanyName          = 'SyscallTools'
    Copyright            = '(c) SyscallTools developers. MIT licence.'
    Description          = 'A laboratory for the x86 Linux system-call boundary: an emulated CPU runs the kernel''s entry and exit paths (int $0x80, SYSENTER, SYSCALL, the vDSO; SYSRET, SYSEXIT, IRET) so you can see exactly what happens and why.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    # The emulator core's types (LinuxMachine, CpuProfile, KernelModel …) are usable from scripts directly.
    RequiredAssemblies   = @('artifacts/bin/SyscallTools.Core.dll', 'artifacts/bin/Iced.dll')
    FormatsToProcess     = @('module/SyscallTools.format.ps1xml')
    TypesToProcess       = @('module/SyscallTools.types.ps1xml')
    CmdletsToExport      = @(
        'Get-EmuCpuProfile'
        'Get-EmuKernel'
        'Measure-SyscallPath'
        'Compare-EmuKernel'
        'New-EmuCpu'
        'Invoke-Syscall'
        'Start-EmuProcess'
        'Get-ExitPath'
        'Get-PtRegs'
        'Set-PtRegs'
        'Invoke-EmuCode'
        'Get-EmuTrace'
        'Test-VdsoUnwind'
        'Import-EmuVdso'
        'Get-EmuVdso'
        'Compare-HostKernel'
        'Measure-HostSyscall'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags = @('x86', 'linux', 'syscall', 'emulator', 'kernel')
        }
    }
}
