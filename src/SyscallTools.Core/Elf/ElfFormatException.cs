namespace SyscallTools.Core.Elf;

/// <summary>
/// The one exception <see cref="ElfReader"/> throws: the input is not an ELF file it can read, or it is
/// truncated or inconsistent. The message says what is wrong and where ("section header table lies outside
/// the file"), so a bad vDSO image can be diagnosed without a hex dump.
/// </summary>
public sealed class ElfFormatException : Exception
{
    public ElfFormatException(string message) : base(message) { }
}
