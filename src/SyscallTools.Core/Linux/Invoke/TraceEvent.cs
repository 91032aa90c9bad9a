namespace SyscallTools.Core.Linux;

/// <summary>One step of a traced run: an instruction, a far transfer, a C function, or a fault.</summary>
public sealed record TraceEvent(long Sequence, string Kind, int Ring, ulong Address, string? Symbol, string Text)
{
    public override string ToString() => $"{Sequence,5} ring{Ring} {Address:x16} {Symbol,-36} {Text}";
}
