namespace SyscallTools.Errors;

/// <summary>Stable error ids: scripts match on these, so they never change once published.</summary>
public static class ErrorIds
{
    public const string UnknownVendor = "SyscallTools.UnknownVendor";
    /// <summary>A kernel model name that Get-EmuKernel does not list.</summary>
    public const string UnknownKernel = "SyscallTools.UnknownKernel";
    /// <summary>A system-call name that is not in the table of the ABI the call would use.</summary>
    public const string UnknownSyscall = "SyscallTools.UnknownSyscall";
    /// <summary>Parameters that each make sense but not together (a 64-bit task on a 32-bit kernel, -Via Vdso without a vDSO…).</summary>
    public const string InvalidCombination = "SyscallTools.InvalidCombination";
    /// <summary>A register value that does not fit the register (a 64-bit value for a 32-bit kernel's pt_regs).</summary>
    public const string InvalidRegisterValue = "SyscallTools.InvalidRegisterValue";
    /// <summary>A register the structure does not have (r11 in a 32-bit kernel's pt_regs).</summary>
    public const string UnknownRegister = "SyscallTools.UnknownRegister";
    /// <summary>A register write the kernel's putreg would refuse with -EIO (a null or RPL-0 selector…).</summary>
    public const string RejectedRegisterWrite = "SyscallTools.RejectedRegisterWrite";
    /// <summary>The emulated task has exited or was killed; the machine can run nothing more.</summary>
    public const string TaskExited = "SyscallTools.TaskExited";
    /// <summary>Assembly text that did not parse or encode.</summary>
    public const string InvalidAssembly = "SyscallTools.InvalidAssembly";
    /// <summary>A result that never reached an exit decision (the entry instruction faulted in user mode).</summary>
    public const string NoExitPath = "SyscallTools.NoExitPath";
    /// <summary>A result made without -Trace was asked for its trace.</summary>
    public const string NoTrace = "SyscallTools.NoTrace";
    /// <summary>An input object of a type the command does not take.</summary>
    public const string UnsupportedInput = "SyscallTools.UnsupportedInput";
    /// <summary>A file that is not a usable 32-bit vDSO (not ELF32 i386, truncated, no __kernel_vsyscall or landing pad), or a vDSO whose .eh_frame is malformed.</summary>
    public const string InvalidVdsoImage = "SyscallTools.InvalidVdsoImage";
    /// <summary>A scenario name that the command does not know (Compare-HostKernel -ListAvailable, or the design scenarios of Measure-SyscallPath and Compare-EmuKernel).</summary>
    public const string UnknownScenario = "SyscallTools.UnknownScenario";
    /// <summary>A cost table that is missing, unreadable, or names a key or value the cost model cannot use.</summary>
    public const string InvalidCostTable = "SyscallTools.InvalidCostTable";
    /// <summary>A host probe that could not be written, started or compared (not a disagreement: the comparison did not happen).</summary>
    public const string HostProbeFailed = "SyscallTools.HostProbeFailed";
    /// <summary>A Measure-HostSyscall method name that is not one of its entry methods.</summary>
    public const string UnknownEntryMethod = "SyscallTools.UnknownEntryMethod";
    /// <summary>A Set-PtRegs -ScriptBlock threw at its stop (or poked a register the kernel refused); the call went on without its remaining writes.</summary>
    public const string TracerScriptFailed = "SyscallTools.TracerScriptFailed";
    /// <summary>Start-EmuProcess -Path names no file (or a directory).</summary>
    public const string ProgramNotFound = "SyscallTools.ProgramNotFound";
    /// <summary>A program exec refuses: not ELF, truncated, not x86, not an executable, or segments that do not fit the task.</summary>
    public const string InvalidProgram = "SyscallTools.InvalidProgram";
    /// <summary>A dynamically linked program (PT_INTERP): the model has no dynamic loader; link with -static.</summary>
    public const string DynamicProgram = "SyscallTools.DynamicProgram";
    /// <summary>A -File entry for the virtual file system that is not an absolute path with a string or byte[] value.</summary>
    public const string InvalidVirtualFile = "SyscallTools.InvalidVirtualFile";
}
