using SyscallTools.Core.Memory;

namespace SyscallTools.Core.Linux;

/// <summary>
/// copy_from_user / copy_to_user: kernel accesses to user addresses that fail cleanly (the kernel's exception
/// table turns the fault into -EFAULT) instead of faulting the emulated kernel.
/// </summary>
public sealed class UserMemory(AddressSpace memory, Func<ulong> userLimit)
{
    private bool Accessible(ulong address, int length, bool write)
    {
        if (length == 0) return true;
        ulong end = address + (ulong)length - 1;
        if (end < address || end >= userLimit()) return false;
        for (ulong p = address >> Page.Shift; p <= end >> Page.Shift; p++)
        {
            var f = memory.FlagsAt(p << Page.Shift);
            if (f is not PageFlags flags || (flags & PageFlags.User) == 0) return false;
            if (write && (flags & PageFlags.Writable) == 0) return false;
        }
        return true;
    }

    public bool TryRead(ulong address, Span<byte> into) => Accessible(address, into.Length, write: false) && memory.TryReadBytes(address, into);

    public bool TryWrite(ulong address, ReadOnlySpan<byte> data)
    {
        if (!Accessible(address, data.Length, write: true)) return false;
        memory.WriteBytes(address, data);
        return true;
    }

    public bool TryReadUInt32(ulong address, out uint value)
    {
        // The usual case (the fast entries' sixth argument): one page, checked and read through one lookup.
        int off = (int)(address & Page.OffsetMask);
        if (off <= Page.Size - 4 && address + 3 < userLimit() && memory.Find(address >> Page.Shift) is { } page)
        {
            bool ok1 = (page.Flags & PageFlags.User) != 0;
            value = ok1 ? System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(page.Data.AsSpan(off)) : 0;
            return ok1;
        }
        Span<byte> b = stackalloc byte[4];
        bool ok = TryRead(address, b);
        value = ok ? BitConverter.ToUInt32(b) : 0;
        return ok;
    }
}
