using System.Buffers.Binary;

namespace SyscallTools.Core.Tests.ElfTests;

/// <summary>
/// Test-side encoder for a minimal i386 .eh_frame (one CIE, one FDE per function, a zero terminator) and its
/// .eh_frame_hdr. Both hold PC-relative values, which is why <see cref="Core.Elf.ElfBuilder"/> hands out
/// addresses before it takes bytes: these encoders need the final address of each section.
/// </summary>
internal static class EhFrame
{
    private const byte DW_EH_PE_udata4 = 0x03, DW_EH_PE_sdata4 = 0x0b, DW_EH_PE_pcrel = 0x10, DW_EH_PE_datarel = 0x30;
    private const int CieSize = 24, FdeSize = 20, TerminatorSize = 4;

    public static int Size(int functions) => CieSize + functions * FdeSize + TerminatorSize;
    public static int HeaderSize(int functions) => 12 + 8 * functions;

    /// <summary>Offset of the FDE for function <paramref name="i"/> within .eh_frame.</summary>
    public static int FdeOffset(int i) => CieSize + i * FdeSize;

    public static byte[] Encode(uint ehFrameAddress, IReadOnlyList<(uint Start, uint Length)> functions)
    {
        var b = new byte[Size(functions.Count)];
        // CIE: version 1, "zR", code align 1, data align -4, return address in r8 (eip), FDE pointers pcrel|sdata4;
        // CFA = esp + 4 and the return address at CFA - 4, which is the state at a function's first byte.
        byte[] cie =
        [
            20, 0, 0, 0, 0, 0, 0, 0, 1, (byte)'z', (byte)'R', 0, 0x01, 0x7c, 0x08, 0x01, DW_EH_PE_pcrel | DW_EH_PE_sdata4,
            0x0c, 0x04, 0x04, 0x88, 0x01, 0x00, 0x00,
        ];
        cie.CopyTo(b, 0);
        for (int i = 0; i < functions.Count; i++)
        {
            int at = FdeOffset(i);
            W32(b, at, FdeSize - 4);
            W32(b, at + 4, (uint)(at + 4));                                         // back to the CIE at 0
            W32(b, at + 8, functions[i].Start - (ehFrameAddress + (uint)at + 8));     // pc_begin, pcrel
            W32(b, at + 12, functions[i].Length);                                     // pc_range
            // b[at + 16] = 0: no augmentation data; the rest DW_CFA_nop.
        }
        return b; // the trailing four zero bytes end the section for an unwinder walking it
    }

    /// <summary>.eh_frame_hdr: version 1, eh_frame_ptr pcrel|sdata4, count udata4, table datarel|sdata4, sorted by pc.</summary>
    public static byte[] EncodeHeader(uint headerAddress, uint ehFrameAddress, IReadOnlyList<(uint Start, uint Length)> functions)
    {
        var b = new byte[HeaderSize(functions.Count)];
        b[0] = 1;
        b[1] = DW_EH_PE_pcrel | DW_EH_PE_sdata4;
        b[2] = DW_EH_PE_udata4;
        b[3] = DW_EH_PE_datarel | DW_EH_PE_sdata4;
        W32(b, 4, ehFrameAddress - (headerAddress + 4));
        W32(b, 8, (uint)functions.Count);
        var sorted = functions.Select((f, i) => (f.Start, Fde: ehFrameAddress + (uint)FdeOffset(i))).OrderBy(e => e.Start).ToArray();
        for (int i = 0; i < sorted.Length; i++)
        {
            W32(b, 12 + 8 * i, sorted[i].Start - headerAddress);
            W32(b, 16 + 8 * i, sorted[i].Fde - headerAddress);
        }
        return b;
    }

    private static void W32(byte[] b, int at, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), v);
}
