using System.Management.Automation;

namespace SyscallTools.Errors;

/// <summary>Builds the module's error records: one stable id, one category, one message that says what to do.</summary>
internal static class Errors
{
    public static ErrorRecord Record(string id, ErrorCategory category, object? target, string message, Exception? inner = null) =>
        new(category switch
            {
                ErrorCategory.ObjectNotFound => new ItemNotFoundException(message, inner),
                ErrorCategory.InvalidOperation => new InvalidOperationException(message, inner),
                ErrorCategory.ParserError => new FormatException(message, inner),
                _ => new ArgumentException(message, inner),
            },
            id, category, target);
}
