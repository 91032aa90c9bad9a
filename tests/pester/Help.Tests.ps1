# Every exported command has real help (not the syntax PowerShell generates when there is none): a synopsis, a
# description, at least two examples, and a description for every parameter. The about_ topics exist and load.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot '../../SyscallTools.psd1') -Force
    $script:Commands = @(Get-Command -Module SyscallTools | ForEach-Object Name)
    $script:Topics = @('about_SyscallTools', 'about_SyscallTools_EntryPaths', 'about_SyscallTools_ExitPaths', 'about_SyscallTools_PtRegs')
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../SyscallTools.psd1') -Force
    $script:Common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
}

Describe 'Help for <_>' -ForEach $Commands {
    BeforeAll {
        $script:Help = Get-Help $_ -Full
        $script:Cmd = Get-Command $_
    }

    It 'has a synopsis that is not the generated syntax' {
        $Help.Synopsis | Should -Not -BeNullOrEmpty
        $Help.Synopsis | Should -Not -Match ([regex]::Escape($Cmd.Name) + '\s+\[')
    }

    It 'has a description' {
        ($Help.Description.Text -join '').Length | Should -BeGreaterThan 40
    }

    It 'has at least two examples, each with code and remarks' {
        @($Help.Examples.Example).Count | Should -BeGreaterOrEqual 2
        foreach ($e in $Help.Examples.Example) {
            $e.Code | Should -Not -BeNullOrEmpty
            ($e.Remarks.Text -join '') | Should -Not -BeNullOrEmpty
        }
    }

    It 'documents every parameter' {
        foreach ($p in $Cmd.Parameters.Keys | Where-Object { $_ -notin $Common }) {
            $doc = $Help.Parameters.Parameter | Where-Object Name -eq $p
            $doc | Should -Not -BeNullOrEmpty -Because "-$p needs an entry"
            ($doc.Description.Text -join '') | Should -Not -BeNullOrEmpty -Because "-$p needs a description"
        }
    }

    It 'documents no parameter the command does not have' {
        foreach ($doc in $Help.Parameters.Parameter) {
            $Cmd.Parameters.Keys | Should -Contain $doc.Name
        }
    }
}

Describe 'about topic <_>' -ForEach $Topics {
    It 'is found by Get-Help' {
        (Get-Help $_ | Out-String) | Should -Match 'SHORT DESCRIPTION'
    }
}
