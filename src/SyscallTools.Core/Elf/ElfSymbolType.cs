namespace SyscallTools.Core.Elf;

/// <summary>ELF32_ST_TYPE(st_info): what a symbol names.</summary>
public enum ElfSymbolType : byte
{
    /// <summary>Unspecified: a bare label such as int80_landing_pad.</summary>
    STT_NOTYPE = 0,
    /// <summary>A data object.</summary>
    STT_OBJECT = 1,
    /// <summary>A function or other code.</summary>
    STT_FUNC = 2,
    STT_SECTION = 3,
    STT_FILE = 4,
    STT_COMMON = 5,
    STT_TLS = 6,
    STT_GNU_IFUNC = 10,
}
