using System.Buffers.Binary;

namespace SyscallTools.Core.Linux;

/// <summary>
/// A word of the task's ABI — 4 bytes for an i386 task (compat_ulong_t, pointers), 8 for x86-64 — in a little-endian
/// buffer bound for or read from user memory: the sigaction, rlimit, timespec and iovec layouts and the initial stack
/// are runs of these.
/// </summary>
internal static class UserWords
{
    /// <summary>Stores <paramref name="value"/> truncated to <paramref name="word"/> bytes at <paramref name="at"/>.</summary>
    public static void Put(Span<byte> buffer, int at, ulong value, int word)
    {
        if (word == 4) BinaryPrimitives.WriteUInt32LittleEndian(buffer[at..], (uint)value);
        else BinaryPrimitives.WriteUInt64LittleEndian(buffer[at..], value);
    }

    /// <summary>The word at <paramref name="at"/>, zero-extended.</summary>
    public static ulong Get(ReadOnlySpan<byte> buffer, int at, int word) => word == 4
        ? BinaryPrimitives.ReadUInt32LittleEndian(buffer[at..])
        : BinaryPrimitives.ReadUInt64LittleEndian(buffer[at..]);
}
