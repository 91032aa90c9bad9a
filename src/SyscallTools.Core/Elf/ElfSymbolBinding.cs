namespace SyscallTools.Core.Elf;

/// <summary>ELF32_ST_BIND(st_info): a symbol's visibility to other objects.</summary>
public enum ElfSymbolBinding : byte
{
    /// <summary>Seen only inside the object; locals precede all other symbols in a table.</summary>
    STB_LOCAL = 0,
    /// <summary>Seen by every object: what a vDSO exports.</summary>
    STB_GLOBAL = 1,
    STB_WEAK = 2,
    STB_GNU_UNIQUE = 10,
}
