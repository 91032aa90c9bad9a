namespace SyscallTools.Core.Elf;

/// <summary>
/// Writes the smallest static executable Linux will exec: an ELF32 (EM_386) or ELF64 (EM_X86_64) ET_EXEC file with
/// two PT_LOAD segments — text (R+X, holding the headers and the code) and data (R+W, the given bytes then zeros) —
/// no sections, no interpreter, no dynamic table. The host probes are written this way, so no C toolchain is needed.
/// </summary>
/// <remarks>
/// The text segment starts at file offset 0, so the headers are mapped too (as ld does); the code follows them at
/// <see cref="CodeOffset"/>. The data segment begins on the next page of the file, keeping p_offset ≡ p_vaddr
/// (mod p_align) as binfmt_elf requires.
/// </remarks>
public static class ElfExecutableWriter
{
    /// <summary>Where the code sits in the file and in the text segment: after the ELF and program headers.</summary>
    public const int CodeOffset = 0x100;
    public const int PageSize = 0x1000;

    /// <summary>The same, for callers that cannot pass spans (PowerShell).</summary>
    public static byte[] WriteArrays(int bitness, ulong textAddress, byte[] code, ulong entry, ulong dataAddress, byte[] data, int dataSize) =>
        Write(bitness, textAddress, code.AsSpan(), entry, dataAddress, data.AsSpan(), dataSize);

    /// <param name="bitness">32 (ELFCLASS32, EM_386) or 64 (ELFCLASS64, EM_X86_64).</param>
    /// <param name="textAddress">Page-aligned vaddr of the text segment; the code is at textAddress + CodeOffset.</param>
    /// <param name="code">The instructions, assembled for textAddress + CodeOffset.</param>
    /// <param name="entry">e_entry (an address inside the code).</param>
    /// <param name="dataAddress">Page-aligned vaddr of the data segment.</param>
    /// <param name="data">Initial data (p_filesz bytes).</param>
    /// <param name="dataSize">p_memsz: the rest after <paramref name="data"/> is zero-filled (bss).</param>
    public static byte[] Write(int bitness, ulong textAddress, ReadOnlySpan<byte> code, ulong entry,
        ulong dataAddress, ReadOnlySpan<byte> data, int dataSize)
    {
        if (bitness is not (32 or 64)) throw new ArgumentOutOfRangeException(nameof(bitness), "An executable is 32- or 64-bit.");
        if (textAddress % PageSize != 0 || dataAddress % PageSize != 0) throw new ArgumentException("Segment addresses must be page-aligned.");
        if (dataSize < data.Length) throw new ArgumentException("dataSize must cover the initial data.", nameof(dataSize));
        ulong textEnd = textAddress + CodeOffset + (ulong)code.Length;
        if (entry < textAddress + CodeOffset || entry >= textEnd) throw new ArgumentException("The entry point must lie in the code.", nameof(entry));
        if (dataAddress < textEnd && dataAddress + (ulong)dataSize > textAddress) throw new ArgumentException("Text and data overlap.");
        bool is64 = bitness == 64;
        int ehsize = is64 ? 64 : 52, phentsize = is64 ? 56 : 32;
        int textFileSize = CodeOffset + code.Length;
        int dataOffset = (textFileSize + PageSize - 1) / PageSize * PageSize;
        var w = new ElfImageWriter(dataOffset + data.Length);

        // e_ident: magic, class, little-endian, version 1, System V ABI.
        w.Copy(0, [0x7F, (byte)'E', (byte)'L', (byte)'F', (byte)(is64 ? 2 : 1), 1, 1, 0]);
        w.U16(16, (ushort)ElfType.ET_EXEC);
        w.U16(18, (ushort)(is64 ? ElfMachine.EM_X86_64 : ElfMachine.EM_386));
        w.U32(20, 1);
        if (is64)
        {
            U64(w, 24, entry);
            U64(w, 32, (ulong)ehsize);   // e_phoff
            U64(w, 40, 0);               // e_shoff: no sections
            w.U32(48, 0);                // e_flags
            w.U16(52, (ushort)ehsize);
            w.U16(54, (ushort)phentsize);
            w.U16(56, 2);
            w.U16(58, 64);               // e_shentsize (no table, but the size a table would have)
        }
        else
        {
            w.U32(24, (uint)entry);
            w.U32(28, (uint)ehsize);
            w.U32(32, 0);
            w.U32(36, 0);
            w.U16(40, (ushort)ehsize);
            w.U16(42, (ushort)phentsize);
            w.U16(44, 2);
            w.U16(46, 40);
        }
        Phdr(w, is64, ehsize, ElfSegmentFlags.PF_R | ElfSegmentFlags.PF_X, 0, textAddress, (ulong)textFileSize, (ulong)textFileSize);
        Phdr(w, is64, ehsize + phentsize, ElfSegmentFlags.PF_R | ElfSegmentFlags.PF_W, (ulong)dataOffset, dataAddress, (ulong)data.Length, (ulong)dataSize);
        w.Copy(CodeOffset, code);
        w.Copy(dataOffset, data);
        return w.Bytes;
    }

    private static void Phdr(ElfImageWriter w, bool is64, int at, ElfSegmentFlags flags, ulong offset, ulong vaddr, ulong filesz, ulong memsz)
    {
        w.U32(at, (uint)ElfSegmentType.PT_LOAD);
        if (is64)
        {
            w.U32(at + 4, (uint)flags);
            U64(w, at + 8, offset);
            U64(w, at + 16, vaddr);
            U64(w, at + 24, vaddr);
            U64(w, at + 32, filesz);
            U64(w, at + 40, memsz);
            U64(w, at + 48, PageSize);
        }
        else
        {
            w.U32(at + 4, (uint)offset);
            w.U32(at + 8, (uint)vaddr);
            w.U32(at + 12, (uint)vaddr);
            w.U32(at + 16, (uint)filesz);
            w.U32(at + 20, (uint)memsz);
            w.U32(at + 24, (uint)flags);
            w.U32(at + 28, PageSize);
        }
    }

    private static void U64(ElfImageWriter w, int at, ulong value)
    {
        w.U32(at, (uint)value);
        w.U32(at + 4, (uint)(value >> 32));
    }
}
