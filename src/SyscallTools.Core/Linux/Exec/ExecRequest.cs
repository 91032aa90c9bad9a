namespace SyscallTools.Core.Linux.Exec;

/// <summary>What execve is given: the image's bytes, the path it is known by inside the model, argv and envp.</summary>
public sealed record ExecRequest
{
    /// <summary>The ELF file's bytes (already read; exec never opens a host file).</summary>
    public required byte[] Image { get; init; }
    /// <summary>The virtual path: AT_EXECFN and what readlink("/proc/self/exe") answers.</summary>
    public required string Path { get; init; }
    /// <summary>argv, argv[0] included.</summary>
    public required IReadOnlyList<string> Argv { get; init; }
    public IReadOnlyList<string> Envp { get; init; } = [];
}
