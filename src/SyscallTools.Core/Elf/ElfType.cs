namespace SyscallTools.Core.Elf;

/// <summary>e_type: what kind of object file this is.</summary>
public enum ElfType : ushort
{
    ET_NONE = 0,
    /// <summary>Relocatable object (.o).</summary>
    ET_REL = 1,
    /// <summary>Executable linked at a fixed address (a static program).</summary>
    ET_EXEC = 2,
    /// <summary>Shared object, linked at 0 and mapped anywhere: a vDSO is one.</summary>
    ET_DYN = 3,
    ET_CORE = 4,
}
