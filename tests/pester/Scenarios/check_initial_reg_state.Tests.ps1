# check_initial_reg_state (tools/testing/selftests/x86/check_initial_reg_state.c; both bitnesses): linked with
# -Wl,-ereal_start, so its first instructions run exactly as execve left the task; they store every GPR and the flags,
# and main() asserts "All GPRs except SP are 0" (r8-r15 too in the 64-bit build) and "FLAGS is 0x202".
# (start_thread / ELF_PLAT_INIT: elf_common_init zeroes the registers; regs->flags = X86_EFLAGS_IF | the fixed bit.)
#
# Here the first Invoke-EmuCode on a new machine is the "real_start": the model sets only IP (its code area) and SP
# (where exec left it) before running it, so every other register is exec's. The code stores them in the data area.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'ScenarioHelpers.ps1')
    $script:Cases = @(Get-ScenarioMatrix)
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../../SyscallTools.psd1') -Force
    . (Join-Path $PSScriptRoot 'ScenarioHelpers.ps1')
}

Describe 'check_initial_reg_state' {
    Context '<Name>' -ForEach $Cases {
        BeforeAll {
            $cpu = New-EmuCpu -Vendor $Vendor -Kernel $Kernel -KernelBits $KernelBits -Bitness $Bitness
            $data = $cpu.Machine.UserDataArea
            $names = if ($Bitness -eq 64) {
                'rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'
            } else { 'eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp', 'esp' }
            $w = $Bitness / 8
            $i = 0
            $asm = @(foreach ($n in $names) { "mov [$($data + $w * $i++)], $n" })
            # pushf/pop into the slot after the registers.
            $flagsAt = $data + $w * $names.Count
            $asm += if ($Bitness -eq 64) { 'pushfq', 'pop rax', "mov [$flagsAt], rax" } else { 'pushfd', 'pop eax', "mov [$flagsAt], eax" }
            $run = $cpu | Invoke-EmuCode -Assembly $asm
            $read = { param([ulong] $at) if ($Bitness -eq 64) { $cpu.Machine.Memory.ReadUInt64($at) } else { [ulong]$cpu.Machine.Memory.ReadUInt32($at) } }
            $regs = [ordered]@{}
            for ($j = 0; $j -lt $names.Count; $j++) { $regs[$names[$j]] = & $read ($data + $w * $j) }
            $flags = & $read $flagsAt
        }

        It 'the entry code ran' {
            $run.Outcome | Should -Be 'ran to the end of the code'
            $regs[$(if ($Bitness -eq 64) { 'rsp' } else { 'esp' })] | Should -Not -Be 0 -Because '[FAIL] Test was built incorrectly (sp == 0)'
        }

        It '[OK] All GPRs except SP are 0' {
            foreach ($n in $regs.Keys) {
                if ($n -in 'rsp', 'esp') { continue }
                $regs[$n] | Should -Be 0 -Because "$n must be 0 at the entry point"
            }
        }

        It '[OK] FLAGS is 0x202' {
            $flags | Should -Be 0x202
        }
    }
}
