using SyscallTools.Core.Elf;

namespace SyscallTools.Core.Linux.Vdso;

/// <summary>A file that cannot serve as a 32-bit vDSO; the message says why.</summary>
public sealed class InvalidVdsoImageException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Loads a real 32-bit vDSO (an ELF32 i386 shared object, e.g. dumped from [vdso] of a 32-bit process) so a task can
/// run with it: its PT_LOAD segments laid out from address 0, __kernel_vsyscall and the sigreturn trampolines by
/// symbol, and the landing pad by symbol when exported, else found as the <c>int $0x80</c> (cd 80) followed by
/// <c>pop ebp; pop edx; pop ecx</c> (5d 5a 59) inside __kernel_vsyscall.
/// </summary>
public static class VdsoImport
{
    public const int MaxSize = 0x10000;
    private static readonly byte[] Nop4 = [0x0F, 0x1F, 0x40, 0x00];
    private static readonly byte[] SysenterSlot = [0x89, 0xE5, 0x0F, 0x34], SyscallSlot = [0x89, 0xCD, 0x0F, 0x05];

    /// <exception cref="InvalidVdsoImageException">Anything that makes the file unusable.</exception>
    public static VdsoImage Load(byte[] file, int kernelBits, string? sourcePath = null)
    {
        ElfReader elf;
        try { elf = new ElfReader(file); }
        catch (ElfFormatException e) { throw new InvalidVdsoImageException($"not a readable ELF file: {e.Message}", e); }
        if (elf.Class != ElfClass.ELFCLASS32 || elf.Machine != ElfMachine.EM_386)
            throw new InvalidVdsoImageException($"a 32-bit vDSO is ELF32 for EM_386; this file is {elf.Class} for {elf.Machine}");
        if (elf.Type != ElfType.ET_DYN)
            throw new InvalidVdsoImageException($"a vDSO is a shared object (ET_DYN); this file is {elf.Type}");
        if (elf.LoadSegments.Count == 0) throw new InvalidVdsoImageException("the file has no PT_LOAD segment to map");
        ulong extent = 0;
        foreach (var s in elf.LoadSegments)
        {
            ulong span = Math.Max(s.MemorySize, s.FileSize);
            if (s.VirtualAddress > MaxSize || span > MaxSize || s.VirtualAddress + span > MaxSize)
                throw new InvalidVdsoImageException($"a PT_LOAD at 0x{s.VirtualAddress:x} (0x{span:x} bytes) lies beyond the {MaxSize / 1024} KiB a vDSO may take; a vDSO is linked at 0");
            extent = Math.Max(extent, s.VirtualAddress + span);
        }
        int size = (int)((extent + 0xFFF) & ~0xFFFUL);
        var bytes = new byte[size];
        foreach (var s in elf.LoadSegments) s.Bytes.Span.CopyTo(bytes.AsSpan((int)s.VirtualAddress));

        var notes = new List<string>();
        var syms = new Dictionary<string, int>();
        foreach (var name in new[] { "__kernel_vsyscall", "__kernel_sigreturn", "__kernel_rt_sigreturn" })
        {
            var sym = elf.FindSymbol(name);
            if (sym is null || !sym.IsDefined)
                throw new InvalidVdsoImageException($"the image does not define {name}, which the kernel needs (vdso_image_32.sym_{name})");
            if (sym.Value >= (ulong)size) throw new InvalidVdsoImageException($"{name} at 0x{sym.Value:x} lies outside the mapped image (0x{size:x} bytes)");
            syms[name] = (int)sym.Value;
        }
        int vsyscall = syms["__kernel_vsyscall"];
        if (elf.FindSymbol("int80_landing_pad") is { IsDefined: true } lp && lp.Value < (ulong)size)
        {
            syms["int80_landing_pad"] = (int)lp.Value;
            notes.Add($"landing pad: symbol int80_landing_pad at 0x{lp.Value:x}");
        }
        else
        {
            var vs = elf.FindSymbol("__kernel_vsyscall")!;
            int span = (int)Math.Clamp(vs.Size == 0 ? 64UL : vs.Size, 5, 256);
            int end = Math.Min(size, vsyscall + span);
            int at = bytes.AsSpan(vsyscall, end - vsyscall).IndexOf(new byte[] { 0xCD, 0x80, 0x5D, 0x5A, 0x59 });
            if (at < 0)
                throw new InvalidVdsoImageException("no landing pad: int80_landing_pad is not exported and __kernel_vsyscall has no int $0x80 followed by pop ebp; pop edx; pop ecx (cd 80 5d 5a 59)");
            syms["int80_landing_pad"] = vsyscall + at + 2;
            notes.Add($"landing pad: found by its bytes (cd 80 | 5d 5a 59) at 0x{vsyscall + at + 2:x}");
        }

        // The alternative slot: the 4 bytes before int $0x80. A dumped image has the dumping kernel's choice patched
        // in; the emulated kernel re-patches it for its own CPU, as apply_alternatives would at its boot.
        int slot = syms["int80_landing_pad"] - 2 - 4;
        var alts = new List<Alternative>();
        string variant = "int80";
        if (slot >= vsyscall)
        {
            var cur = bytes.AsSpan(slot, 4);
            string? found = cur.SequenceEqual(SysenterSlot) ? "sysenter" : cur.SequenceEqual(SyscallSlot) ? "syscall" : cur.SequenceEqual(Nop4) || cur.ToArray().All(b => b == 0x90) ? "nops" : null;
            if (found is not null)
            {
                Nop4.CopyTo(bytes, slot);
                if (kernelBits == 64)
                {
                    alts.Add(new Alternative(slot, 4, "X86_FEATURE_SYSENTER32", SysenterSlot));
                    alts.Add(new Alternative(slot, 4, "X86_FEATURE_SYSCALL32", SyscallSlot));
                }
                else alts.Add(new Alternative(slot, 4, "X86_FEATURE_SEP", SysenterSlot));
                notes.Add($"alternative slot at 0x{slot:x} held {found}; re-patched for this CPU");
            }
            else notes.Add($"the 4 bytes before int $0x80 ({Convert.ToHexString(cur.ToArray()).ToLowerInvariant()}) are not a known alternative: left as they are");
        }
        return new VdsoImage
        {
            Bytes = bytes, File = (byte[])file.Clone(), Symbols = syms, Alternatives = alts, Flavor = "imported", MappedSize = size,
            SourcePath = sourcePath, Notes = notes, EntryVariant = variant,
        };
    }
}
