using SyscallTools.Core.Linux.Boot;
using SyscallTools.Core.Linux.Models;
using SyscallTools.Core.Linux.Vdso;
using SyscallTools.Core.Memory;

namespace SyscallTools.Core.Linux;

/// <summary>Mapping another 32-bit vDSO image in place of the one boot built (an imported one, or a test's).</summary>
public sealed partial class LinuxMachine
{
    /// <summary>
    /// Unmaps the task's vDSO and maps <paramref name="image"/> at the same base, after applying its alternatives for
    /// this CPU: symbols, AT_SYSINFO in the initial stack's auxv, and (pre-rewrite kernels) sysenter_return follow.
    /// </summary>
    /// <exception cref="InvalidOperationException">The task has no vDSO to replace (64-bit task, booted without one), or an
    /// imported image on a pre-rewrite kernel, whose SYSENTER/SYSCALL exits do not return to a landing pad.</exception>
    public void ReplaceVdso(VdsoImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (Task.Bitness != 32 || !MapVdso || Task.VdsoBase == 0 || Vdso is null)
            throw new InvalidOperationException("Only a 32-bit task booted with a vDSO has one to replace.");
        if (image.SourcePath is not null && Model.Generation == EntryGeneration.PreRewrite)
            throw new InvalidOperationException($"{Model.Name} returns SYSENTER/SYSCALL to its own image's addresses (sysenter_return, the byte after SYSCALL), not to a landing pad; import an image on linux-4.4 or later.");
        if (image.MappedSize > VdsoImport.MaxSize || image.Bytes.Length > image.MappedSize)
            throw new InvalidOperationException($"the image needs 0x{image.MappedSize:x} bytes, more than the 0x{VdsoImport.MaxSize:x} reserved for the vDSO");

        ulong vdsoBase = Task.VdsoBase;
        foreach (var at in _symbols.Where(kv => kv.Value.StartsWith("[vdso] ", StringComparison.Ordinal)).Select(kv => kv.Key).ToList())
            RemoveSymbol(at);
        Memory.Unmap(vdsoBase, (ulong)Vdso.MappedSize);

        image.ApplyAlternatives(Features);
        Vdso = image;
        Memory.Map(vdsoBase, (ulong)image.MappedSize, PageFlags.UserCode);
        Memory.WriteBytes(vdsoBase, image.Bytes);
        foreach (var (name, off) in image.Symbols) SetSymbol(vdsoBase + (ulong)off, $"[vdso] {name}");
        if (image.SysenterReturn is int sr) Memory.WriteUInt64(Layout.ThreadInfo + KernelLayout.TiSysenterReturn, vdsoBase + (ulong)sr);

        // AT_SYSINFO in the auxv exec left on the stack: argc, argv[0], NULL, envp NULL, then (type, value) pairs.
        for (ulong p = InitialStackPointer + 16; p < InitialStackPointer + 0x100; p += 8)
        {
            uint type = Memory.ReadUInt32(p);
            if (type == AtNull) break;
            if (type == AtSysinfo) Memory.WriteUInt32(p + 4, (uint)KernelVsyscall);
        }
    }
}
