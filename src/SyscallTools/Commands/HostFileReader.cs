using System.Management.Automation;

namespace SyscallTools.Commands;

/// <summary>
/// How one cmdlet refuses a host file it was asked to read: the error ids and categories, and the wording that says
/// what the file should have been.
/// </summary>
internal sealed record HostFileRules(
    string DirectoryId,
    ErrorCategory DirectoryCategory,
    Func<string, string> DirectoryMessage,
    string MissingId,
    long MaxBytes,
    string TooBigId,
    Func<string, long, string> TooBigMessage,
    string UnreadableId);

/// <summary>
/// Reads a file the user named (Start-EmuProcess's program, Import-EmuVdso's image): the PowerShell path resolved, a
/// directory, a missing file or one too large refused before a byte is read, and any failure to read it an error
/// record — never an exception out of the cmdlet. The file is only read; nothing on the host is changed.
/// </summary>
internal static class HostFileReader
{
    public static (string Full, byte[] Bytes)? TryRead(PSCmdlet cmdlet, string path, HostFileRules rules)
    {
        try
        {
            string full = cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
            var info = new FileInfo(full);
            if (Directory.Exists(full))
            {
                cmdlet.WriteError(Errors.Errors.Record(rules.DirectoryId, rules.DirectoryCategory, path, rules.DirectoryMessage(full)));
                return null;
            }
            if (!info.Exists)
            {
                cmdlet.WriteError(Errors.Errors.Record(rules.MissingId, ErrorCategory.ObjectNotFound, path,
                    $"There is no file '{full}'. Check the path (relative paths are from the current location, {cmdlet.SessionState.Path.CurrentFileSystemLocation})."));
                return null;
            }
            if (info.Length > rules.MaxBytes)
            {
                cmdlet.WriteError(Errors.Errors.Record(rules.TooBigId, ErrorCategory.InvalidData, path, rules.TooBigMessage(full, info.Length)));
                return null;
            }
            return (full, File.ReadAllBytes(full));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException
            or ItemNotFoundException or ProviderNotFoundException or System.Management.Automation.DriveNotFoundException or System.IO.DriveNotFoundException)
        {
            cmdlet.WriteError(Errors.Errors.Record(rules.UnreadableId, ErrorCategory.ReadError, path, $"'{path}' cannot be read: {e.Message}", e));
            return null;
        }
    }
}
