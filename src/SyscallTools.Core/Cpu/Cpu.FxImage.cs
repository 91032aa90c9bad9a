using System.Buffers.Binary;
using System.Runtime.Intrinsics;

namespace SyscallTools.Core.Cpu;

/// <summary>
/// The FXSAVE image (Intel SDM Vol. 1 §10.5.1, table 10-2): what FXSAVE/FXRSTOR store and load, and what the kernel
/// puts in a signal frame's fpstate (fxsave_to_user_sigframe / fxrstor_from_user_sigframe).
/// </summary>
public sealed partial class Cpu
{
    /// <summary>The image's length; XMM0 starts at 160.</summary>
    internal const int FxImageBytes = 512, FxXmmOffset = 160;

    /// <summary>
    /// Fills the first 160 + 16 × <paramref name="xmmCount"/> bytes of <paramref name="img"/> as FXSAVE does:
    /// <paramref name="pointers64"/> is the REX.W form (64-bit FPU IP and DP, no selectors).
    /// </summary>
    internal void WriteFxImage(Span<byte> img, bool pointers64, int xmmCount)
    {
        img[..(FxXmmOffset + 16 * xmmCount)].Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(img, Fcw);
        BinaryPrimitives.WriteUInt16LittleEndian(img[2..], Fsw);
        img[4] = Ftw;
        BinaryPrimitives.WriteUInt16LittleEndian(img[6..], Fop);
        if (pointers64)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(img[8..], Fip);
            BinaryPrimitives.WriteUInt64LittleEndian(img[16..], Fdp);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(img[8..], (uint)Fip);
            BinaryPrimitives.WriteUInt16LittleEndian(img[12..], Fcs);
            BinaryPrimitives.WriteUInt32LittleEndian(img[16..], (uint)Fdp);
            BinaryPrimitives.WriteUInt16LittleEndian(img[20..], Fds);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(img[24..], Mxcsr);
        BinaryPrimitives.WriteUInt32LittleEndian(img[28..], MxcsrMask);
        // ST(i) in stack order: physical register (TOP + i) mod 8, 10 bytes in a 16-byte slot.
        int top = (Fsw >> 11) & 7;
        for (int i = 0; i < 8; i++) Fpr.AsSpan(((top + i) & 7) * 10, 10).CopyTo(img[(32 + 16 * i)..]);
        for (int i = 0; i < xmmCount; i++) Xmm[i].CopyTo(img[(FxXmmOffset + 16 * i)..]);
    }

    /// <summary>Loads the state FXRSTOR loads from an image; false (nothing loaded) when MXCSR has reserved bits set.</summary>
    internal bool ReadFxImage(ReadOnlySpan<byte> img, bool pointers64, int xmmCount)
    {
        uint mxcsr = BinaryPrimitives.ReadUInt32LittleEndian(img[24..]);
        if ((mxcsr & ~MxcsrMask) != 0) return false;
        Fcw = BinaryPrimitives.ReadUInt16LittleEndian(img);
        Fsw = BinaryPrimitives.ReadUInt16LittleEndian(img[2..]);
        Ftw = img[4];
        Fop = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(img[6..]) & 0x7FF);
        if (pointers64)
        {
            Fip = BinaryPrimitives.ReadUInt64LittleEndian(img[8..]);
            Fdp = BinaryPrimitives.ReadUInt64LittleEndian(img[16..]);
        }
        else
        {
            Fip = BinaryPrimitives.ReadUInt32LittleEndian(img[8..]);
            Fcs = BinaryPrimitives.ReadUInt16LittleEndian(img[12..]);
            Fdp = BinaryPrimitives.ReadUInt32LittleEndian(img[16..]);
            Fds = BinaryPrimitives.ReadUInt16LittleEndian(img[20..]);
        }
        Mxcsr = mxcsr;
        int top = (Fsw >> 11) & 7;
        for (int i = 0; i < 8; i++) img.Slice(32 + 16 * i, 10).CopyTo(Fpr.AsSpan(((top + i) & 7) * 10, 10));
        for (int i = 0; i < xmmCount; i++) Xmm[i] = Vector128.Create(img.Slice(FxXmmOffset + 16 * i, 16));
        return true;
    }

    /// <summary>The FPU/SSE state after FNINIT with MXCSR at its default and every XMM register zero (fpstate_init's image).</summary>
    internal void ResetFpuSse()
    {
        ResetX87();
        Array.Clear(Fpr);
        Mxcsr = MxcsrDefault;
        for (int i = 0; i < Xmm.Length; i++) Xmm[i] = Vector128<byte>.Zero;
    }
}
