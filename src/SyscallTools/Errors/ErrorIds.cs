namespace SyscallTools.Errors;

/// <summary>Stable error ids: scripts match on these, so they never change once published.</summary>
public static class ErrorIds
{
    public const string UnknownVendor = "SyscallTools.UnknownVendor";
}
