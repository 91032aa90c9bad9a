namespace SyscallTools.Core.Elf;

/// <summary>Indices and values of e_ident, the first 16 bytes of every ELF file.</summary>
public static class ElfIdent
{
    public const int EI_MAG0 = 0, EI_MAG1 = 1, EI_MAG2 = 2, EI_MAG3 = 3;
    public const int EI_CLASS = 4, EI_DATA = 5, EI_VERSION = 6, EI_OSABI = 7, EI_ABIVERSION = 8;

    /// <summary>"\x7fELF".</summary>
    public const byte ELFMAG0 = 0x7f, ELFMAG1 = (byte)'E', ELFMAG2 = (byte)'L', ELFMAG3 = (byte)'F';

    /// <summary>Two's complement, little-endian: the only byte order x86 uses, so the only one read here.</summary>
    public const byte ELFDATA2LSB = 1;
    public const byte ELFDATA2MSB = 2;

    public const byte EV_CURRENT = 1;

    /// <summary>System V ABI; what Linux objects, vDSOs included, carry.</summary>
    public const byte ELFOSABI_NONE = 0;
}
