namespace SyscallTools.Core.Linux.Exec;

/// <summary>The auxiliary vector's keys (include/uapi/linux/auxvec.h, arch/x86/include/uapi/asm/auxvec.h).</summary>
public static class AuxVector
{
    public const ulong AT_NULL = 0, AT_PHDR = 3, AT_PHENT = 4, AT_PHNUM = 5, AT_PAGESZ = 6, AT_BASE = 7, AT_FLAGS = 8,
        AT_ENTRY = 9, AT_UID = 11, AT_EUID = 12, AT_GID = 13, AT_EGID = 14, AT_PLATFORM = 15, AT_HWCAP = 16,
        AT_CLKTCK = 17, AT_SECURE = 23, AT_RANDOM = 25, AT_HWCAP2 = 26, AT_RSEQ_FEATURE_SIZE = 27, AT_RSEQ_ALIGN = 28,
        AT_EXECFN = 31, AT_SYSINFO = 32, AT_SYSINFO_EHDR = 33, AT_MINSIGSTKSZ = 51;

    /// <summary>The name of a key, for display.</summary>
    public static string Name(ulong key) => key switch
    {
        AT_NULL => "AT_NULL", AT_PHDR => "AT_PHDR", AT_PHENT => "AT_PHENT", AT_PHNUM => "AT_PHNUM", AT_PAGESZ => "AT_PAGESZ",
        AT_BASE => "AT_BASE", AT_FLAGS => "AT_FLAGS", AT_ENTRY => "AT_ENTRY", AT_UID => "AT_UID", AT_EUID => "AT_EUID",
        AT_GID => "AT_GID", AT_EGID => "AT_EGID", AT_PLATFORM => "AT_PLATFORM", AT_HWCAP => "AT_HWCAP", AT_CLKTCK => "AT_CLKTCK",
        AT_SECURE => "AT_SECURE", AT_RANDOM => "AT_RANDOM", AT_HWCAP2 => "AT_HWCAP2", AT_RSEQ_FEATURE_SIZE => "AT_RSEQ_FEATURE_SIZE",
        AT_RSEQ_ALIGN => "AT_RSEQ_ALIGN", AT_EXECFN => "AT_EXECFN", AT_SYSINFO => "AT_SYSINFO",
        AT_SYSINFO_EHDR => "AT_SYSINFO_EHDR", AT_MINSIGSTKSZ => "AT_MINSIGSTKSZ", _ => $"AT_{key}",
    };
}
