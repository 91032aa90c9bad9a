namespace SyscallTools.Core.Memory;

/// <summary>Permissions of one 4 KiB page, as a page-table entry would grant them.</summary>
[Flags]
public enum PageFlags : byte
{
    None = 0,
    /// <summary>The page may be written (PTE.R/W).</summary>
    Writable = 1,
    /// <summary>Ring 3 may touch the page (PTE.U/S).</summary>
    User = 2,
    /// <summary>Instruction fetches fault when EFER.NXE is set (PTE.XD).</summary>
    NoExecute = 4,

    /// <summary>Convenience sets.</summary>
    UserCode = User,
    UserData = User | Writable | NoExecute,
    UserReadOnly = User | NoExecute,
    KernelCode = None,
    KernelData = Writable | NoExecute,
}
