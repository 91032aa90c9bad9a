using System.Buffers.Binary;

namespace SyscallTools.Core.Elf.Cfi;

/// <summary>
/// Builds a CFA instruction stream the way the assembler does for .cfi_* directives: each rule is emitted at a
/// code offset, with DW_CFA_advance_loc* in between. i386 factors: code 1, data -4.
/// </summary>
public sealed class CfiProgram
{
    private readonly List<byte> _bytes = new();
    private int _loc;
    private int _defCfaOffsets;

    /// <summary>
    /// When set, the DW_CFA_def_cfa_offset with this index (0 = the first emitted) is written 4 bytes too large: a
    /// deliberately wrong annotation for tests of the unwinder and of Test-VdsoUnwind.
    /// </summary>
    public int? BreakDefCfaOffset { get; init; }

    public byte[] Bytes => _bytes.ToArray();

    /// <summary>The rules that follow apply from code offset <paramref name="offset"/> (relative to the FDE start).</summary>
    public CfiProgram At(int offset)
    {
        if (offset < _loc) throw new ArgumentException($"CFI locations must not go backwards ({offset} after {_loc})", nameof(offset));
        int d = offset - _loc;
        if (d == 0) return this;
        if (d < 0x40) _bytes.Add((byte)(Dwarf.DW_CFA_advance_loc | d));
        else if (d <= 0xff) { _bytes.Add(Dwarf.DW_CFA_advance_loc1); _bytes.Add((byte)d); }
        else if (d <= 0xffff) { _bytes.Add(Dwarf.DW_CFA_advance_loc2); _bytes.AddRange(BitConverter.GetBytes((ushort)d)); }
        else { _bytes.Add(Dwarf.DW_CFA_advance_loc4); _bytes.AddRange(BitConverter.GetBytes((uint)d)); }
        _loc = offset;
        return this;
    }

    public CfiProgram DefCfa(int register, int offset) { _bytes.Add(Dwarf.DW_CFA_def_cfa); Uleb(register); Uleb(offset); return this; }

    /// <summary>.cfi_def_cfa_offset / .cfi_adjust_cfa_offset after the arithmetic.</summary>
    public CfiProgram DefCfaOffset(int offset)
    {
        if (BreakDefCfaOffset == _defCfaOffsets++) offset += 4;
        _bytes.Add(Dwarf.DW_CFA_def_cfa_offset);
        Uleb(offset);
        return this;
    }

    /// <summary>.cfi_offset reg, cfaOffset: the caller's value is saved at CFA + cfaOffset (a negative multiple of 4).</summary>
    public CfiProgram Offset(int register, int cfaOffset)
    {
        if (cfaOffset > 0 || cfaOffset % 4 != 0) throw new ArgumentException("i386 saves are at negative multiples of 4 from the CFA", nameof(cfaOffset));
        _bytes.Add((byte)(Dwarf.DW_CFA_offset | register));
        Uleb(-cfaOffset / 4);
        return this;
    }

    public CfiProgram Restore(int register) { _bytes.Add((byte)(Dwarf.DW_CFA_restore | register)); return this; }

    /// <summary>.cfi_register reg, holder: the caller's value of <paramref name="register"/> is now in <paramref name="holder"/>.</summary>
    public CfiProgram Register(int register, int holder) { _bytes.Add(Dwarf.DW_CFA_register); Uleb(register); Uleb(holder); return this; }

    public CfiProgram DefCfaExpression(params byte[] expression) { _bytes.Add(Dwarf.DW_CFA_def_cfa_expression); Uleb(expression.Length); _bytes.AddRange(expression); return this; }

    public CfiProgram Expression(int register, params byte[] expression)
    {
        _bytes.Add(Dwarf.DW_CFA_expression); Uleb(register); Uleb(expression.Length); _bytes.AddRange(expression);
        return this;
    }

    /// <summary>DW_OP_breg{reg} offset, as an expression.</summary>
    public static byte[] Breg(int register, int offset) => [(byte)(Dwarf.DW_OP_breg0 + register), .. Sleb(offset)];

    private void Uleb(int v) => _bytes.AddRange(UlebBytes((uint)v));

    public static byte[] UlebBytes(uint v)
    {
        var b = new List<byte>();
        do { byte x = (byte)(v & 0x7f); v >>= 7; if (v != 0) x |= 0x80; b.Add(x); } while (v != 0);
        return b.ToArray();
    }

    public static byte[] Sleb(int v)
    {
        var b = new List<byte>();
        while (true)
        {
            byte x = (byte)(v & 0x7f);
            v >>= 7;
            bool done = (v == 0 && (x & 0x40) == 0) || (v == -1 && (x & 0x40) != 0);
            b.Add(done ? x : (byte)(x | 0x80));
            if (done) return b.ToArray();
        }
    }
}

/// <summary>
/// Writes an i386 .eh_frame (CIEs with augmentation "zR" or "zRS", FDE pointers DW_EH_PE_pcrel|sdata4, every entry
/// padded with DW_CFA_nop to 4 bytes, a zero terminator) and its .eh_frame_hdr (version 1, eh_frame_ptr
/// pcrel|sdata4, fde_count udata4, the table datarel|sdata4 sorted by address). Sizes do not depend on addresses,
/// so <see cref="Size"/> can be declared to <see cref="ElfBuilder"/> before <see cref="ElfBuilder.Layout"/>.
/// </summary>
public sealed class EhFrameWriter
{
    private readonly List<(string Augmentation, byte[] Initial)> _cies = new();
    private readonly List<(int Cie, uint Start, uint Length, byte[] Instructions)> _fdes = new();

    /// <summary>A CIE (code align 1, data align -4, return address column 8 = eip); returns its index.</summary>
    public int AddCie(string augmentation, byte[] initialInstructions)
    {
        if (augmentation is not ("zR" or "zRS")) throw new ArgumentException("augmentation must be \"zR\" or \"zRS\"", nameof(augmentation));
        _cies.Add((augmentation, initialInstructions));
        return _cies.Count - 1;
    }

    /// <summary>The usual i386 CIE: CFA = esp+4, return address at CFA-4 (the state at a function's first byte).</summary>
    public int AddStandardCie() => AddCie("zR", new CfiProgram().DefCfa(Dwarf.Esp, 4).Offset(Dwarf.Eip, -4).Bytes);

    public void AddFde(int cie, uint start, uint length, byte[] instructions) => _fdes.Add((cie, start, length, instructions));

    private static int Pad4(int n) => (n + 3) & ~3;
    // length(4) id(4) version(1) aug(n+1) code(1) data(1) ra(1) auglen(1) enc(1) + instructions
    private static int CieSize(string aug, byte[] ins) => 4 + Pad4(4 + 1 + aug.Length + 1 + 3 + 2 + ins.Length);
    // length(4) cie-pointer(4) pc_begin(4) pc_range(4) auglen(1) + instructions
    private static int FdeSize(byte[] ins) => 4 + Pad4(4 + 4 + 4 + 1 + ins.Length);

    public int Size => _cies.Sum(c => CieSize(c.Augmentation, c.Initial)) + _fdes.Sum(f => FdeSize(f.Instructions)) + 4;
    public int HeaderSize => 12 + 8 * _fdes.Count;

    /// <summary>The bytes of .eh_frame mapped at <paramref name="address"/>; also returns each FDE's offset.</summary>
    public byte[] Encode(uint address) => Encode(address, out _);

    private byte[] Encode(uint address, out int[] fdeOffsets)
    {
        var b = new List<byte>();
        var cieAt = new int[_cies.Count];
        fdeOffsets = new int[_fdes.Count];
        void W32(uint v) => b.AddRange(BitConverter.GetBytes(v));
        void PadTo(int start) { while ((b.Count - start) % 4 != 0) b.Add(Dwarf.DW_CFA_nop); }
        for (int i = 0; i < _cies.Count; i++)
        {
            cieAt[i] = b.Count;
            var (aug, ins) = _cies[i];
            W32(0); // length, patched
            W32(0); // CIE id
            b.Add(1);
            b.AddRange(System.Text.Encoding.ASCII.GetBytes(aug)); b.Add(0);
            b.Add(1);                                       // code alignment factor
            b.Add(0x7c);                                    // data alignment factor -4 (sleb128)
            b.Add(Dwarf.Eip);                               // return address column
            b.Add(1);                                       // augmentation data length
            b.Add(Dwarf.DW_EH_PE_pcrel | Dwarf.DW_EH_PE_sdata4);
            b.AddRange(ins);
            PadTo(cieAt[i] + 4);
            BinaryPrimitives.WriteUInt32LittleEndian(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(b)[cieAt[i]..], (uint)(b.Count - cieAt[i] - 4));
        }
        for (int i = 0; i < _fdes.Count; i++)
        {
            var (cie, start, length, ins) = _fdes[i];
            int at = fdeOffsets[i] = b.Count;
            W32(0);
            W32((uint)(at + 4 - cieAt[cie]));               // CIE pointer: back from this field to the CIE
            W32(start - (address + (uint)b.Count));         // pc_begin, pcrel
            W32(length);
            b.Add(0);                                       // no augmentation data
            b.AddRange(ins);
            PadTo(at + 4);
            BinaryPrimitives.WriteUInt32LittleEndian(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(b)[at..], (uint)(b.Count - at - 4));
        }
        W32(0);
        return b.ToArray();
    }

    /// <summary>.eh_frame_hdr mapped at <paramref name="headerAddress"/> for .eh_frame at <paramref name="ehFrameAddress"/>.</summary>
    public byte[] EncodeHeader(uint headerAddress, uint ehFrameAddress)
    {
        Encode(ehFrameAddress, out var fdeOffsets);
        var b = new byte[HeaderSize];
        b[0] = 1;
        b[1] = Dwarf.DW_EH_PE_pcrel | Dwarf.DW_EH_PE_sdata4;
        b[2] = Dwarf.DW_EH_PE_udata4;
        b[3] = Dwarf.DW_EH_PE_datarel | Dwarf.DW_EH_PE_sdata4;
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), ehFrameAddress - (headerAddress + 4));
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), (uint)_fdes.Count);
        var sorted = _fdes.Select((f, i) => (f.Start, Fde: ehFrameAddress + (uint)fdeOffsets[i])).OrderBy(e => e.Start).ToArray();
        for (int i = 0; i < sorted.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(12 + 8 * i), sorted[i].Start - headerAddress);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(16 + 8 * i), sorted[i].Fde - headerAddress);
        }
        return b;
    }
}
