namespace SyscallTools.Core.Elf;

/// <summary>
/// One program header (Elf32_Phdr / Elf64_Phdr): p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz,
/// p_memsz, p_align. For PT_LOAD, <see cref="Bytes"/> is what gets mapped at <see cref="VirtualAddress"/>;
/// the remaining <see cref="MemorySize"/> − <see cref="FileSize"/> bytes are zero-filled.
/// </summary>
public sealed record ElfSegment(
    ElfSegmentType Type,
    ElfSegmentFlags Flags,
    ulong Offset,
    ulong VirtualAddress,
    ulong PhysicalAddress,
    ulong FileSize,
    ulong MemorySize,
    ulong Alignment)
{
    /// <summary>The p_filesz bytes at p_offset (checked to lie inside the file).</summary>
    public ReadOnlyMemory<byte> Bytes { get; init; }

    public bool IsReadable => (Flags & ElfSegmentFlags.PF_R) != 0;
    public bool IsWritable => (Flags & ElfSegmentFlags.PF_W) != 0;
    public bool IsExecutable => (Flags & ElfSegmentFlags.PF_X) != 0;
}
