namespace SyscallTools.Core.Elf;

/// <summary>p_flags: the permissions a segment is mapped with.</summary>
[Flags]
public enum ElfSegmentFlags : uint
{
    None = 0,
    PF_X = 1,
    PF_W = 2,
    PF_R = 4,
}
