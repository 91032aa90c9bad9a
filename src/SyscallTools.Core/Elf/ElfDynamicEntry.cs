namespace SyscallTools.Core.Elf;

/// <summary>One Elf32_Dyn / Elf64_Dyn entry: d_tag and d_un (a value or an address, by tag).</summary>
public readonly record struct ElfDynamicEntry(ElfDynamicTag Tag, ulong Value);
