namespace SyscallTools.Core.Elf.Cfi;

/// <summary>A Common Information Entry: what every FDE that points at it shares.</summary>
public sealed record CfiCie(int Offset, byte Version, string Augmentation, ulong CodeAlignment, long DataAlignment,
    int ReturnAddressRegister, byte FdeEncoding, bool IsSignalFrame, byte[] Instructions)
{
    /// <summary>The rules in force at the first address of every FDE using this CIE.</summary>
    public CfiRow InitialRow { get; internal set; } = null!;
}

/// <summary>A Frame Description Entry: the CFI of one range of code, and the table its instructions build.</summary>
public sealed record CfiFde(int Offset, CfiCie Cie, ulong PcBegin, ulong PcEnd, byte[] Instructions)
{
    /// <summary>The rows, one per address range where the rules differ, covering [PcBegin, PcEnd).</summary>
    public IReadOnlyList<CfiRow> Rows { get; internal set; } = [];

    public bool Contains(ulong pc) => pc >= PcBegin && pc < PcEnd;

    /// <summary>The row in force at <paramref name="pc"/>, or null outside the FDE.</summary>
    public CfiRow? RowAt(ulong pc) => Contains(pc) ? Rows.LastOrDefault(r => r.Start <= pc) : null;
}

/// <summary>.eh_frame_hdr: the sorted (initial location, FDE address) table unwinders binary-search.</summary>
public sealed record EhFrameHeader(ulong Address, byte Version, ulong EhFramePointer, IReadOnlyList<(ulong Pc, ulong Fde)> Table)
{
    /// <summary>The FDE address of the last entry whose location is ≤ pc (binary search, as libgcc does), or null.</summary>
    public ulong? Lookup(ulong pc)
    {
        int lo = 0, hi = Table.Count - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) / 2;
            if (Table[mid].Pc <= pc) { found = mid; lo = mid + 1; } else hi = mid - 1;
        }
        return found < 0 ? null : Table[found].Fde;
    }
}

/// <summary>
/// The .eh_frame of an i386 image, parsed: its CIEs (augmentations "", "zR", "zRS"; pointer encodings absptr,
/// pcrel/datarel with (s|u)data2/4 and LEB128), its FDEs with their CFI tables already computed, and (when given)
/// .eh_frame_hdr. Malformed input is an <see cref="ElfFormatException"/> that says where, never another exception.
/// </summary>
public sealed class EhFrame
{
    private EhFrame(ulong address, IReadOnlyList<CfiCie> cies, IReadOnlyList<CfiFde> fdes, EhFrameHeader? header)
    {
        Address = address; Cies = cies; Fdes = fdes; Header = header;
    }

    /// <summary>The mapped address of .eh_frame (PC-relative pointers are relative to it).</summary>
    public ulong Address { get; }
    public IReadOnlyList<CfiCie> Cies { get; }
    /// <summary>The FDEs in section order.</summary>
    public IReadOnlyList<CfiFde> Fdes { get; }
    public EhFrameHeader? Header { get; }

    /// <summary>
    /// Reads .eh_frame (and .eh_frame_hdr when present) from an ELF image: by section name, or without section
    /// headers through PT_GNU_EH_FRAME and its eh_frame_ptr. Addresses are the file's plus <paramref name="loadBias"/>.
    /// </summary>
    public static EhFrame FromElf(ElfReader elf, ulong loadBias = 0)
    {
        var hdrSection = elf.GetSection(".eh_frame_hdr");
        var frameSection = elf.GetSection(".eh_frame");
        EhFrameHeader? header = null;
        ReadOnlyMemory<byte> hdrBytes = default;
        ulong hdrAddress = 0;
        if (hdrSection is { HasFileBytes: true })
        {
            hdrBytes = hdrSection.Bytes; hdrAddress = hdrSection.Address + loadBias;
        }
        else if (elf.Segments.FirstOrDefault(s => s.Type == ElfSegmentType.PT_GNU_EH_FRAME) is { } seg)
        {
            hdrBytes = seg.Bytes; hdrAddress = seg.VirtualAddress + loadBias;
        }
        if (hdrAddress != 0 || hdrBytes.Length > 0) header = ParseHeader(hdrBytes.Span, hdrAddress);

        if (frameSection is { HasFileBytes: true })
            return Parse(frameSection.Bytes.Span, frameSection.Address + loadBias, header);
        if (header is null)
            throw new ElfFormatException("the image has neither an .eh_frame section nor a PT_GNU_EH_FRAME segment");
        // No section headers: .eh_frame runs from eh_frame_ptr to the end of the PT_LOAD holding it (the terminator stops us).
        ulong at = header.EhFramePointer - loadBias;
        var load = elf.LoadSegments.FirstOrDefault(s => at >= s.VirtualAddress && at < s.VirtualAddress + s.FileSize)
            ?? throw new ElfFormatException($".eh_frame_hdr's eh_frame_ptr 0x{header.EhFramePointer:x} is in no PT_LOAD segment");
        var bytes = load.Bytes.Span[(int)(at - load.VirtualAddress)..];
        return Parse(bytes, header.EhFramePointer, header);
    }

    /// <summary>Parses .eh_frame bytes mapped at <paramref name="address"/>.</summary>
    public static EhFrame Parse(ReadOnlySpan<byte> bytes, ulong address, EhFrameHeader? header = null)
    {
        var cies = new Dictionary<int, CfiCie>();
        var fdes = new List<CfiFde>();
        int at = 0;
        while (at + 4 <= bytes.Length)
        {
            var c = new DwarfCursor(bytes, ".eh_frame") { Position = at };
            uint length = c.U32();
            if (length == 0) break;                                   // the terminator
            if (length == 0xffffffff) throw new ElfFormatException($".eh_frame entry at 0x{at:x} uses the 64-bit DWARF format");
            int bodyStart = c.Position;
            if (length > (uint)(bytes.Length - bodyStart))
                throw new ElfFormatException($".eh_frame entry at 0x{at:x} is truncated: length 0x{length:x}, only 0x{bytes.Length - bodyStart:x} bytes left");
            int end = bodyStart + (int)length;
            var body = bytes[..end];
            var e = new DwarfCursor(body, $".eh_frame entry at 0x{at:x}") { Position = bodyStart };
            uint id = e.U32();
            if (id == 0) cies[at] = ParseCie(ref e, at);
            else
            {
                int cieAt = bodyStart - (int)id;
                if (!cies.TryGetValue(cieAt, out var cie))
                {
                    if (cieAt < 0 || cieAt >= at) throw new ElfFormatException($".eh_frame FDE at 0x{at:x} points at 0x{cieAt:x}, where no CIE precedes it");
                    throw new ElfFormatException($".eh_frame FDE at 0x{at:x} points at 0x{cieAt:x}, which is not a CIE");
                }
                fdes.Add(ParseFde(ref e, at, cie, address));
            }
            at = end;
        }
        return new EhFrame(address, cies.Values.ToArray(), fdes, header);
    }

    private static CfiCie ParseCie(ref DwarfCursor e, int at)
    {
        byte version = e.U8();
        if (version is not (1 or 3)) throw new ElfFormatException($".eh_frame CIE at 0x{at:x} has version {version} (1 or 3 expected)");
        string aug = e.CString();
        ulong codeAlign = e.Uleb();
        long dataAlign = e.Sleb();
        int ra = version == 1 ? e.U8() : (int)e.Uleb();
        byte fdeEncoding = Dwarf.DW_EH_PE_absptr;
        bool signal = false;
        if (aug.Length > 0)
        {
            if (aug[0] != 'z') throw new ElfFormatException($".eh_frame CIE at 0x{at:x} has augmentation \"{aug}\", which does not start with 'z'");
            ulong augLength = e.Uleb();
            if (augLength > (ulong)(e.Length - e.Position))
                throw new ElfFormatException($".eh_frame CIE at 0x{at:x}: augmentation data of {augLength} bytes runs past the entry");
            int augEnd = e.Position + (int)augLength;
            foreach (char ch in aug.AsSpan(1))
            {
                switch (ch)
                {
                    case 'R': fdeEncoding = e.U8(); break;
                    case 'S': signal = true; break;
                    case 'P': { byte enc = e.U8(); e.Pointer(enc, 0); break; }
                    case 'L': e.U8(); break;
                    default: throw new ElfFormatException($".eh_frame CIE at 0x{at:x}: augmentation character '{ch}' in \"{aug}\" is not supported");
                }
            }
            if (e.Position > augEnd) throw new ElfFormatException($".eh_frame CIE at 0x{at:x}: augmentation data overruns its length {augLength}");
            e.Position = augEnd;
        }
        var instructions = e.Bytes((ulong)(e.Length - e.Position)).ToArray();
        var cie = new CfiCie(at, version, aug, codeAlign, dataAlign, ra, fdeEncoding, signal, instructions);
        // The CIE's own instructions give the initial row; code addresses do not matter for it.
        var rows = CfiInterpreter.Run(cie, null, instructions, 0, ulong.MaxValue, $"CIE at 0x{at:x}");
        cie.InitialRow = rows[^1];
        return cie;
    }

    private static CfiFde ParseFde(ref DwarfCursor e, int at, CfiCie cie, ulong sectionAddress)
    {
        ulong begin = e.Pointer(cie.FdeEncoding, sectionAddress + (ulong)e.Position);
        ulong range = e.Pointer((byte)(cie.FdeEncoding & 0x0f), 0);
        if (cie.Augmentation.StartsWith('z'))
        {
            ulong augLength = e.Uleb();
            e.Bytes(augLength);
        }
        var instructions = e.Bytes((ulong)(e.Length - e.Position)).ToArray();
        ulong end = (uint)(begin + range);
        if (end < begin) throw new ElfFormatException($".eh_frame FDE at 0x{at:x}: range 0x{begin:x}+0x{range:x} wraps past 4 GiB");
        var fde = new CfiFde(at, cie, begin, end, instructions);
        fde.Rows = CfiInterpreter.Run(cie, cie.InitialRow, instructions, begin, end, $"FDE at 0x{at:x}");
        return fde;
    }

    /// <summary>Parses .eh_frame_hdr mapped at <paramref name="address"/>.</summary>
    public static EhFrameHeader ParseHeader(ReadOnlySpan<byte> bytes, ulong address)
    {
        var c = new DwarfCursor(bytes, ".eh_frame_hdr");
        byte version = c.U8();
        if (version != 1) throw new ElfFormatException($".eh_frame_hdr has version {version} (1 expected)");
        byte ptrEnc = c.U8(), countEnc = c.U8(), tableEnc = c.U8();
        ulong ehFrame = c.Pointer(ptrEnc, address + (ulong)c.Position, address);
        var table = new List<(ulong, ulong)>();
        if (countEnc != Dwarf.DW_EH_PE_omit && tableEnc != Dwarf.DW_EH_PE_omit)
        {
            ulong count = c.Pointer(countEnc, address + (ulong)c.Position, address);
            if (count > (ulong)bytes.Length) throw new ElfFormatException($".eh_frame_hdr claims {count} table entries, more than its {bytes.Length} bytes can hold");
            for (ulong i = 0; i < count; i++)
            {
                ulong pc = c.Pointer(tableEnc, address + (ulong)c.Position, address);
                ulong fde = c.Pointer(tableEnc, address + (ulong)c.Position, address);
                table.Add((pc, fde));
            }
            for (int i = 1; i < table.Count; i++)
                if (table[i].Item1 < table[i - 1].Item1) throw new ElfFormatException($".eh_frame_hdr's table is not sorted at entry {i}");
        }
        return new EhFrameHeader(address, version, ehFrame, table);
    }

    /// <summary>The FDE covering <paramref name="pc"/>: through the header's table when there is one, else by scanning.</summary>
    public CfiFde? FindFde(ulong pc)
    {
        if (Header is { Table.Count: > 0 } h)
        {
            if (h.Lookup(pc) is not ulong fdeAddress) return null;
            var fde = Fdes.FirstOrDefault(f => Address + (ulong)f.Offset == fdeAddress);
            return fde is not null && fde.Contains(pc) ? fde : null;
        }
        return Fdes.FirstOrDefault(f => f.Contains(pc));
    }

    /// <summary>The CFI row in force at <paramref name="pc"/>, or null when no FDE covers it.</summary>
    public CfiRow? RowAt(ulong pc) => FindFde(pc)?.RowAt(pc);
}
