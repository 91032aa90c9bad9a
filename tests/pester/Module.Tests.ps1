# The module manifest: explicit exports, every listed file present, importable after a build.
BeforeAll {
    $root = Resolve-Path (Join-Path $PSScriptRoot '../..')
    $manifestPath = Join-Path $root 'SyscallTools.psd1'
}

Describe 'SyscallTools.psd1' {
    It 'is a valid manifest' {
        { Test-ModuleManifest -Path $manifestPath -ErrorAction Stop } | Should -Not -Throw
    }

    It 'lists its cmdlets explicitly and exports nothing else' {
        $data = Import-PowerShellDataFile $manifestPath
        $data.CmdletsToExport | Should -Not -BeNullOrEmpty
        $data.CmdletsToExport | Should -Not -Contain '*'
        $data.FunctionsToExport | Should -HaveCount 0
        $data.VariablesToExport | Should -HaveCount 0
        $data.AliasesToExport | Should -HaveCount 0
        $data.PowerShellVersion | Should -Be '7.4'
    }

    It 'exports exactly the cmdlets it lists' {
        $data = Import-PowerShellDataFile $manifestPath
        $module = Import-Module $manifestPath -Force -PassThru
        @($module.ExportedCmdlets.Keys | Sort-Object) | Should -Be @($data.CmdletsToExport | Sort-Object)
    }

    It 'names format and type files that exist' {
        $data = Import-PowerShellDataFile $manifestPath
        foreach ($f in @($data.FormatsToProcess) + @($data.TypesToProcess)) {
            Join-Path $root $f | Should -Exist
        }
    }
}
