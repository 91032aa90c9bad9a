namespace SyscallTools.Core.Memory;

/// <summary>What an access is for; decides the #PF error code bits and which permission applies.</summary>
public enum AccessKind : byte
{
    Read,
    Write,
    Execute,
}
