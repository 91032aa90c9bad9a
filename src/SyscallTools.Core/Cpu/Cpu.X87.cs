using System.Buffers.Binary;

namespace SyscallTools.Core.Cpu;

/// <summary>
/// The x87 register stack (SDM Vol. 1 §8.1): TOP in FSW bits 13:11, ST(i) = physical register (TOP + i) mod 8, a tag bit per
/// physical register (the abridged tag word: 1 = valid). Exceptions set their FSW flags; the model handles the masked
/// responses and reports an unmasked x87 exception as "not modelled" (no #MF delivery from arithmetic).
/// </summary>
public sealed partial class Cpu
{
    internal const ushort FswC0 = 1 << 8, FswC1 = 1 << 9, FswC2 = 1 << 10, FswC3 = 1 << 14;

    internal int X87Top
    {
        get => (Fsw >> 11) & 7;
        set => Fsw = (ushort)((Fsw & ~0x3800) | ((value & 7) << 11));
    }

    internal int X87Phys(int i) => (X87Top + i) & 7;

    internal bool X87Empty(int i) => (Ftw & (1 << X87Phys(i))) == 0;

    internal Ext X87Get(int i)
    {
        int at = X87Phys(i) * 10;
        return new Ext(BinaryPrimitives.ReadUInt64LittleEndian(Fpr.AsSpan(at)), BinaryPrimitives.ReadUInt16LittleEndian(Fpr.AsSpan(at + 8)));
    }

    internal void X87Set(int i, Ext v)
    {
        int phys = X87Phys(i), at = phys * 10;
        BinaryPrimitives.WriteUInt64LittleEndian(Fpr.AsSpan(at), v.Mant);
        BinaryPrimitives.WriteUInt16LittleEndian(Fpr.AsSpan(at + 8), v.SignExp);
        Ftw |= (byte)(1 << phys);
    }

    internal void X87Pop()
    {
        Ftw &= (byte)~(1 << X87Phys(0));
        X87Top++;
    }

    /// <summary>
    /// Checks that the exceptions an instruction is about to raise are masked in FCW (else: not modelled, nothing changed),
    /// then records them in FSW, and sets C1 as given (null: unchanged).
    /// </summary>
    internal void X87Commit(ushort flags, bool? c1, Decoding.Op op)
    {
        ushort unmasked = (ushort)(flags & ~Fcw & 0x3F);
        // The instruction's name is built only for the message: this runs on every x87 data instruction.
        if (unmasked != 0) throw CpuFaultException.NotModelled($"{Name(op)} raising an unmasked x87 exception (FSW flags 0x{flags:x2}, FCW 0x{Fcw:x4})");
        ushort fsw = (ushort)(Fsw | flags);
        if (c1 is bool set) fsw = set ? (ushort)(fsw | FswC1) : (ushort)(fsw & ~FswC1);
        Fsw = fsw;
    }

    /// <summary>The rounding control, FCW bits 11:10.</summary>
    internal int X87Rc => (Fcw >> 10) & 3;
}
