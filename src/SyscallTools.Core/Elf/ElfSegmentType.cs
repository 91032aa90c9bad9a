namespace SyscallTools.Core.Elf;

/// <summary>p_type: what a program header (segment) describes.</summary>
public enum ElfSegmentType : uint
{
    PT_NULL = 0,
    /// <summary>Bytes to map: p_filesz bytes from p_offset at p_vaddr, zero-filled up to p_memsz.</summary>
    PT_LOAD = 1,
    /// <summary>The .dynamic array the dynamic loader reads (DT_HASH, DT_SYMTAB, ...).</summary>
    PT_DYNAMIC = 2,
    PT_INTERP = 3,
    /// <summary>Notes (a vDSO carries the kernel version in one).</summary>
    PT_NOTE = 4,
    PT_SHLIB = 5,
    PT_PHDR = 6,
    PT_TLS = 7,
    /// <summary>The .eh_frame_hdr an unwinder finds through dl_iterate_phdr.</summary>
    PT_GNU_EH_FRAME = 0x6474_e550,
    PT_GNU_STACK = 0x6474_e551,
    PT_GNU_RELRO = 0x6474_e552,
    PT_GNU_PROPERTY = 0x6474_e553,
}
