# Freezes each exported command's parameters: set, name, type, mandatory, position and pipeline binding, plus the
# default parameter set and ShouldProcess support. Scripts depend on these; a change must be deliberate, so it must
# fail here first (then update the table in the same commit, and say why in its message).
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../SyscallTools.psd1') -Force

    function Get-Contract([System.Management.Automation.CommandInfo] $Command) {
        $common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
        foreach ($set in ($Command.ParameterSets | Sort-Object Name)) {
            foreach ($p in ($set.Parameters | Where-Object { $_.Name -notin $common } | Sort-Object Name)) {
                $flags = @()
                if ($p.IsMandatory) { $flags += 'Mandatory' }
                if ($p.Position -ge 0) { $flags += "Position=$($p.Position)" }
                if ($p.ValueFromPipeline) { $flags += 'ByValue' }
                if ($p.ValueFromPipelineByPropertyName) { $flags += 'ByPropertyName' }
                "$($set.Name)|$($p.Name)|$($p.ParameterType.ToString())|$($flags -join ',')"
            }
        }
    }
}

BeforeDiscovery {
    $script:Expected = [ordered]@{
        'Compare-EmuKernel' = @(
            '__AllParameterSets|Baseline|System.String|'
            '__AllParameterSets|CostTable|System.Object|'
            '__AllParameterSets|Cpu|SyscallTools.EmuCpu|Mandatory,ByValue'
            '__AllParameterSets|Kernel|System.String[]|Position=0'
            '__AllParameterSets|Scenario|System.String[]|'
        )
        'Measure-SyscallPath' = @(
            'ByResult|CostTable|System.Object|'
            'ByResult|Result|SyscallTools.Core.Linux.SyscallResult|Mandatory,ByValue'
            'ByScenario|CostTable|System.Object|'
            'ByScenario|Cpu|SyscallTools.EmuCpu|Mandatory,ByValue'
            'ByScenario|Kernel|System.String[]|'
            'ByScenario|Scenario|System.String|Position=0'
        )
        'Measure-HostSyscall' = @(
            '__AllParameterSets|Iterations|System.Int64|'
            '__AllParameterSets|Method|System.String[]|Position=0,ByValue,ByPropertyName'
        )
        'Compare-HostKernel' = @(
            'Compare|HostVdso|System.Management.Automation.SwitchParameter|'
            'Compare|Kernel|System.String|'
            'Compare|Scenario|System.String[]|Position=0,ByValue,ByPropertyName'
            'Compare|TimeoutSeconds|System.Int32|'
            'List|ListAvailable|System.Management.Automation.SwitchParameter|Mandatory'
            'List|Scenario|System.String[]|Position=0,ByValue,ByPropertyName'
        )
        'Get-EmuCpuProfile' = @(
            '__AllParameterSets|Vendor|System.String[]|Position=0,ByValue,ByPropertyName'
        )
        'Get-EmuKernel' = @(
            '__AllParameterSets|Name|System.String[]|Position=0,ByValue,ByPropertyName'
        )
        'Get-EmuTrace' = @(
            '__AllParameterSets|InputObject|System.Management.Automation.PSObject|Mandatory,Position=0,ByValue'
            '__AllParameterSets|Kind|System.String[]|'
            '__AllParameterSets|Ring|System.Nullable`1[System.Int32]|'
        )
        'Get-EmuVdso' = @(
            '__AllParameterSets|Cpu|SyscallTools.EmuCpu|Mandatory,Position=0,ByValue,ByPropertyName'
        )
        'Get-ExitPath' = @(
            'FromResult|InputObject|SyscallTools.Core.Linux.SyscallResult|Mandatory,Position=0,ByValue'
            'Hypothetical|Cpu|SyscallTools.EmuCpu|Mandatory,ByValue,ByPropertyName'
            'Hypothetical|Cs|System.Nullable`1[System.UInt64]|'
            'Hypothetical|Cx|System.Nullable`1[System.UInt64]|'
            'Hypothetical|Entry|SyscallTools.ExitEntry|Mandatory,Position=0'
            'Hypothetical|Flags|System.Nullable`1[System.UInt64]|'
            'Hypothetical|Ip|System.Nullable`1[System.UInt64]|'
            'Hypothetical|R11|System.Nullable`1[System.UInt64]|'
            'Hypothetical|Sp|System.Nullable`1[System.UInt64]|'
            'Hypothetical|Ss|System.Nullable`1[System.UInt64]|'
        )
        'Get-PtRegs' = @(
            '__AllParameterSets|Cpu|SyscallTools.EmuCpu|Mandatory,Position=0,ByValue,ByPropertyName'
        )
        'Import-EmuVdso' = @(
            '__AllParameterSets|Cpu|SyscallTools.EmuCpu|Mandatory,ByValue,ByPropertyName'
            '__AllParameterSets|PassThru|System.Management.Automation.SwitchParameter|'
            '__AllParameterSets|Path|System.String|Mandatory,Position=0,ByPropertyName'
        )
        'Invoke-EmuCode' = @(
            'Assembly|Assembly|System.String[]|Mandatory,Position=0,ByPropertyName'
            'Assembly|Cpu|SyscallTools.EmuCpu|Mandatory,ByValue,ByPropertyName'
            'Assembly|MaxInstructions|System.Int64|'
            'Assembly|Trace|System.Management.Automation.SwitchParameter|'
            'Bytes|Bytes|System.Byte[]|Mandatory,ByPropertyName'
            'Bytes|Cpu|SyscallTools.EmuCpu|Mandatory,ByValue,ByPropertyName'
            'Bytes|MaxInstructions|System.Int64|'
            'Bytes|Trace|System.Management.Automation.SwitchParameter|'
        )
        'Invoke-Syscall' = @(
            'ByName|ArgumentList|System.Int64[]|Position=1,ByPropertyName'
            'ByName|Count|System.Int32|'
            'ByName|Cpu|SyscallTools.EmuCpu[]|Mandatory,ByValue,ByPropertyName'
            'ByName|MaxInstructions|System.Int64|'
            'ByName|Name|System.String|Mandatory,Position=0,ByPropertyName'
            'ByName|Trace|System.Management.Automation.SwitchParameter|'
            'ByName|Via|System.Nullable`1[SyscallTools.Core.Linux.EntryMethod]|ByPropertyName'
            'ByNumber|ArgumentList|System.Int64[]|Position=1,ByPropertyName'
            'ByNumber|Count|System.Int32|'
            'ByNumber|Cpu|SyscallTools.EmuCpu[]|Mandatory,ByValue,ByPropertyName'
            'ByNumber|MaxInstructions|System.Int64|'
            'ByNumber|Number|System.Int64|Mandatory'
            'ByNumber|Trace|System.Management.Automation.SwitchParameter|'
            'ByNumber|Via|System.Nullable`1[SyscallTools.Core.Linux.EntryMethod]|ByPropertyName'
        )
        'New-EmuCpu' = @(
            '__AllParameterSets|Bitness|System.Int32|ByPropertyName'
            '__AllParameterSets|Kernel|System.String|Position=1,ByPropertyName'
            '__AllParameterSets|KernelBits|System.Int32|ByPropertyName'
            '__AllParameterSets|NoVdso|System.Management.Automation.SwitchParameter|'
            '__AllParameterSets|Vendor|System.String|Position=0,ByPropertyName'
        )
        'Set-PtRegs' = @(
            'Values|At|SyscallTools.Commands.PtraceStopPoint|Mandatory,Position=1'
            'Values|Ax|System.Nullable`1[System.UInt64]|'
            'Values|Bp|System.Nullable`1[System.UInt64]|'
            'Values|Bx|System.Nullable`1[System.UInt64]|'
            'Values|Cpu|SyscallTools.EmuCpu|Mandatory,Position=0,ByValue,ByPropertyName'
            'Values|Cs|System.Nullable`1[System.UInt64]|'
            'Values|Cx|System.Nullable`1[System.UInt64]|'
            'Values|Di|System.Nullable`1[System.UInt64]|'
            'Values|Dx|System.Nullable`1[System.UInt64]|'
            'Values|Flags|System.Nullable`1[System.UInt64]|'
            'Values|Ip|System.Nullable`1[System.UInt64]|'
            'Values|OrigAx|System.Nullable`1[System.UInt64]|'
            'Values|PassThru|System.Management.Automation.SwitchParameter|'
            'Values|Persist|System.Management.Automation.SwitchParameter|'
            'Values|R10|System.Nullable`1[System.UInt64]|'
            'Values|R11|System.Nullable`1[System.UInt64]|'
            'Values|R12|System.Nullable`1[System.UInt64]|'
            'Values|R13|System.Nullable`1[System.UInt64]|'
            'Values|R14|System.Nullable`1[System.UInt64]|'
            'Values|R15|System.Nullable`1[System.UInt64]|'
            'Values|R8|System.Nullable`1[System.UInt64]|'
            'Values|R9|System.Nullable`1[System.UInt64]|'
            'Values|Register|System.Collections.Hashtable|'
            'Values|ScriptBlock|System.Management.Automation.ScriptBlock|'
            'Values|Si|System.Nullable`1[System.UInt64]|'
            'Values|Sp|System.Nullable`1[System.UInt64]|'
            'Values|Ss|System.Nullable`1[System.UInt64]|'
        )
        'Start-EmuProcess' = @(
            '__AllParameterSets|ArgumentList|System.String[]|Position=1'
            '__AllParameterSets|Cpu|SyscallTools.EmuCpu|Mandatory,ByValue,ByPropertyName'
            '__AllParameterSets|Environment|System.Collections.IDictionary|'
            '__AllParameterSets|File|System.Collections.IDictionary|'
            '__AllParameterSets|MaxInstructions|System.Int64|'
            '__AllParameterSets|Path|System.String|Mandatory,Position=0,ByPropertyName'
            '__AllParameterSets|StandardInput|System.Object|'
            '__AllParameterSets|Tty|System.Management.Automation.SwitchParameter|'
        )
        'Test-VdsoUnwind' = @(
            '__AllParameterSets|ArgumentList|System.UInt32[]|'
            '__AllParameterSets|Cpu|SyscallTools.EmuCpu|Mandatory,Position=0,ByValue,ByPropertyName'
            '__AllParameterSets|MaxInstructions|System.Int64|'
            '__AllParameterSets|Name|System.String|'
        )
    }
    $script:Shape = @{
        'Compare-EmuKernel'   = @{ Default = '__AllParameterSets'; ShouldProcess = $false }
        'Measure-SyscallPath' = @{ Default = 'ByScenario'; ShouldProcess = $false }
        'Measure-HostSyscall' = @{ Default = '__AllParameterSets'; ShouldProcess = $false }
        'Compare-HostKernel' = @{ Default = 'Compare'; ShouldProcess = $false }
        'Get-EmuCpuProfile' = @{ Default = '__AllParameterSets'; ShouldProcess = $false }
        'Get-EmuKernel'     = @{ Default = '__AllParameterSets'; ShouldProcess = $false }
        'Get-EmuTrace'      = @{ Default = '__AllParameterSets'; ShouldProcess = $false }
        'Get-EmuVdso'       = @{ Default = '__AllParameterSets'; ShouldProcess = $false }
        'Get-ExitPath'      = @{ Default = 'FromResult'; ShouldProcess = $false }
        'Import-EmuVdso'    = @{ Default = '__AllParameterSets'; ShouldProcess = $true }
        'Get-PtRegs'        = @{ Default = '__AllParameterSets'; ShouldProcess = $false }
        'Invoke-EmuCode'    = @{ Default = 'Assembly'; ShouldProcess = $true }
        'Invoke-Syscall'    = @{ Default = 'ByName'; ShouldProcess = $true }
        'New-EmuCpu'        = @{ Default = '__AllParameterSets'; ShouldProcess = $false }
        'Set-PtRegs'        = @{ Default = 'Values'; ShouldProcess = $true }
        'Start-EmuProcess'  = @{ Default = '__AllParameterSets'; ShouldProcess = $true }
        'Test-VdsoUnwind'   = @{ Default = '__AllParameterSets'; ShouldProcess = $false }
    }
}

Describe 'Parameter contract' {
    It 'covers every exported command' {
        @((Get-Command -Module SyscallTools).Name | Sort-Object) | Should -Be @($Expected.Keys | Sort-Object)
    }

    It '<_> keeps its parameters' -ForEach @($Expected.Keys) {
        $actual = @(Get-Contract (Get-Command $_))
        $actual | Should -Be @($Expected[$_]) -Because 'a parameter change breaks scripts; update this table only on purpose'
    }

    It '<_> keeps its default parameter set and ShouldProcess support' -ForEach @($Shape.Keys) {
        $cmd = Get-Command $_
        $default = if ($cmd.DefaultParameterSet) { $cmd.DefaultParameterSet } else { '__AllParameterSets' }
        $default | Should -Be $Shape[$_].Default
        $cmd.Parameters.ContainsKey('WhatIf') | Should -Be $Shape[$_].ShouldProcess
    }
}
