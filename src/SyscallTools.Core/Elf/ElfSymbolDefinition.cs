namespace SyscallTools.Core.Elf;

/// <summary>
/// A symbol for <see cref="ElfBuilder"/> to write: <paramref name="Value"/> is the symbol's address in the
/// mapped image (load address included). STB_GLOBAL and STB_WEAK symbols are exported through .dynsym;
/// STB_LOCAL ones (a label such as int80_landing_pad) appear only in .symtab.
/// </summary>
public sealed record ElfSymbolDefinition(string Name, uint Value, uint Size, ElfSymbolType Type, ElfSymbolBinding Binding)
{
    public bool IsExported => Binding != ElfSymbolBinding.STB_LOCAL;
}
