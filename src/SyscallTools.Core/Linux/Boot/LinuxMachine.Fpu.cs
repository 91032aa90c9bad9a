using SyscallTools.Core.Cpu;

namespace SyscallTools.Core.Linux;

public sealed partial class LinuxMachine
{
    /// <summary>
    /// fpu__init_cpu() (arch/x86/kernel/fpu/init.c): CR0.MP and NE set, EM and TS clear (eager FPU: TS is never used
    /// since 4.x); CR4.OSFXSR when the CPU has FXSR and CR4.OSXMMEXCPT when it has SSE. Without OSFXSR every SSE
    /// instruction is #UD, which is what a profile without FXSR gets.
    /// </summary>
    private void InitFpu()
    {
        Cpu.Cr0 = (Cpu.Cr0 | ControlBits.Cr0Mp | ControlBits.Cr0Ne) & ~(ControlBits.Cr0Em | ControlBits.Cr0Ts);
        uint edx = Cpu.Profile.Leaf1Edx;
        ulong cr4 = Cpu.Cr4;
        if ((edx & CpuProfile.Leaf1EdxFxsr) != 0) cr4 |= ControlBits.Cr4Osfxsr;
        if ((edx & CpuProfile.Leaf1EdxSse) != 0) cr4 |= ControlBits.Cr4Osxmmexcpt;
        Cpu.Cr4 = cr4;
    }
}
