namespace SyscallTools.Core.Cpu;

/// <summary>GDTR or IDTR: base and limit of a descriptor table.</summary>
public readonly record struct DescriptorTable(ulong Base, ushort Limit);
