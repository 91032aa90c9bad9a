namespace SyscallTools.Core.Linux.Exec;

/// <summary>Why exec refused an image (the kernel answers these with -ENOEXEC, -EINVAL or -ELIBBAD).</summary>
public enum ExecRefusal
{
    /// <summary>Not an ELF file, or its headers are truncated or inconsistent (ElfReader's checks).</summary>
    Malformed,
    /// <summary>e_machine is not EM_386 / EM_X86_64.</summary>
    WrongMachine,
    /// <summary>An ELF of the other class than the task (a 64-bit program for a 32-bit task, or the reverse).</summary>
    WrongBitness,
    /// <summary>e_type is neither ET_EXEC nor ET_DYN (a relocatable object, a core file).</summary>
    NotExecutable,
    /// <summary>PT_INTERP: a dynamically linked program, which needs ld.so and shared libraries the model does not have.</summary>
    Dynamic,
    /// <summary>The segments do not fit the task's address space or the model's memory limit, overlap the vDSO, or there are none.</summary>
    BadLayout,
    /// <summary>argv and envp take more than a quarter of the stack (the kernel's -E2BIG, "Argument list too long").</summary>
    ArgumentsTooLong,
}

/// <summary>An image exec cannot run, with the reason and a sentence that says what is wrong.</summary>
public sealed class ExecFormatException(ExecRefusal refusal, string message) : Exception(message)
{
    public ExecRefusal Refusal { get; } = refusal;
}
