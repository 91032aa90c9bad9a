using System.Buffers.Binary;

namespace SyscallTools.Core.Elf;

/// <summary>A zero-filled byte array written little-endian at explicit offsets.</summary>
internal sealed class ElfImageWriter(int size)
{
    public byte[] Bytes { get; } = new byte[size];

    public void U8(int at, byte value) => Bytes[at] = value;
    public void U16(int at, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Bytes.AsSpan(at), value);
    public void U32(int at, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(at), value);
    public void I32(int at, int value) => BinaryPrimitives.WriteInt32LittleEndian(Bytes.AsSpan(at), value);
    public void Copy(int at, ReadOnlySpan<byte> bytes) => bytes.CopyTo(Bytes.AsSpan(at));
}
