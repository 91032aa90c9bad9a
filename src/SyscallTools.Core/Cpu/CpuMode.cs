namespace SyscallTools.Core.Cpu;

/// <summary>The operating mode, derived as the hardware derives it from CR0.PE, EFER.LMA and CS.L/CS.D.</summary>
public enum CpuMode : byte
{
    /// <summary>CR0.PE = 0. Not executed by this model; listed so the derivation is total.</summary>
    Real,
    /// <summary>Protected mode without long mode (a 32-bit kernel and its tasks), with a 32-bit code segment.</summary>
    Legacy32,
    /// <summary>Protected mode with a 16-bit code segment (CS.D = 0, LMA = 0).</summary>
    Legacy16,
    /// <summary>Long mode with a 32-bit code segment (CS.L = 0, CS.D = 1): a 32-bit task on a 64-bit kernel.</summary>
    Compat32,
    /// <summary>Long mode with a 16-bit code segment (CS.L = 0, CS.D = 0).</summary>
    Compat16,
    /// <summary>Long mode with a 64-bit code segment (CS.L = 1).</summary>
    Long64,
}

public static class CpuModeExtensions
{
    public static bool IsLongMode(this CpuMode m) => m is CpuMode.Compat32 or CpuMode.Compat16 or CpuMode.Long64;
    public static int CodeBitness(this CpuMode m) => m switch
    {
        CpuMode.Long64 => 64,
        CpuMode.Legacy32 or CpuMode.Compat32 => 32,
        _ => 16,
    };
    public static string Describe(this CpuMode m) => m switch
    {
        CpuMode.Long64 => "64-bit mode",
        CpuMode.Compat32 => "compatibility mode (32-bit)",
        CpuMode.Compat16 => "compatibility mode (16-bit)",
        CpuMode.Legacy32 => "legacy protected mode (32-bit)",
        CpuMode.Legacy16 => "legacy protected mode (16-bit)",
        _ => "real mode",
    };
}
