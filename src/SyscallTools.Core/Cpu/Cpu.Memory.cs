using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SyscallTools.Core.Memory;

namespace SyscallTools.Core.Cpu;

public sealed partial class Cpu
{
    internal PagingPolicy Policy => new(
        Nxe: (Efer & Msr.EferNxe) != 0,
        Smep: (Cr4 & ControlBits.Cr4Smep) != 0,
        Smap: (Cr4 & ControlBits.Cr4Smap) != 0,
        Ac: (FlagsRest & RFlags.AC) != 0,
        Wp: (Cr0 & ControlBits.Cr0Wp) != 0);

    // A small translation cache per (access kind, privilege): a hit skips the permission checks, which are
    // re-done whenever the mapping generation or a control register changes (ControlChanged bumps the epoch).
    private const int DtlbSize = 64;
    private readonly ulong[] _dtlbTag = new ulong[DtlbSize * 6];
    private readonly Page?[] _dtlbPage = new Page?[DtlbSize * 6];
    /// <summary>Forgets every cached translation (the mapping or a control register changed).</summary>
    internal void FlushDataTlb() => Array.Clear(_dtlbPage);

    /// <summary>Translates a linear address or raises #PF with the architectural error code and CR2.</summary>
    /// <remarks>The cache hit is small enough to inline into every memory access; a miss goes out of line.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal Page Translate(ulong linear, AccessKind kind, bool user)
    {
        ulong vpn = linear >> Page.Shift;
        int slot = ((int)kind * 2 + (user ? 1 : 0)) * DtlbSize + (int)(vpn & (DtlbSize - 1));
        var hit = _dtlbPage[slot];
        if (hit is not null && _dtlbTag[slot] == vpn) return hit;
        return TranslateMiss(linear, kind, user, slot, vpn);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Page TranslateMiss(ulong linear, AccessKind kind, bool user, int slot, ulong vpn)
    {
        var page = TranslateSlow(linear, kind, user);
        // SMAP depends on EFLAGS.AC, which changes without an epoch bump: do not cache supervisor data accesses then.
        if (user || kind == AccessKind.Execute || (Cr4 & ControlBits.Cr4Smap) == 0)
        {
            // A cached page has its bytes, so the hit path reads them without the lazy allocation's check.
            _ = page.Data;
            _dtlbTag[slot] = vpn;
            _dtlbPage[slot] = page;
        }
        return page;
    }

    private Page TranslateSlow(ulong linear, AccessKind kind, bool user)
    {
        uint r = Memory.Check(linear, kind, user, Policy, out var page);
        if (r != 0)
        {
            uint code = r & ~AddressSpace.Failed;
            string what = (code & AddressSpace.PfPresent) == 0 ? "not mapped" : "protection violation";
            throw CpuFaultException.Pf(linear, code, $"{kind.ToString().ToLowerInvariant()} at 0x{linear:x}: {what}");
        }
        return page!;
    }

    /// <summary>Truncates to the address width of the mode: 32 bits outside 64-bit mode.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong Wrap(ulong linear) => Mode == CpuMode.Long64 ? linear : (uint)linear;

    internal static bool IsCanonical(ulong a) => (ulong)((long)(a << 16) >> 16) == a;

    /// <summary>Reads from a linear address with the current privilege (CPL 3 = user access).</summary>
    internal ulong Read(ulong linear, int size) => ReadAs(linear, size, Cpl == 3);

    /// <summary>Reads as an implicit supervisor access (descriptor tables, the TSS, kernel stack pushes).</summary>
    internal ulong ReadSys(ulong linear, int size) => ReadAs(linear, size, user: false);

    // ---- The hit path: one DTLB probe, no permission walk, no bounds checks ----
    // Everything that reads or writes guest memory goes through these first (the interpreter's handlers, the compiled
    // blocks' loads and stack operations). A hit needs a cached translation for this access kind and privilege and
    // the access inside one page; a write also needs a page without decoded code (a write there must drop the blocks).
    // Everything else — a miss, a split access, a fault, a code page — takes the out-of-line path, which fills the
    // cache. The cache is flushed on every mapping and control-register change, so a hit is what a walk would give.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Page? DtlbHit(ulong linear, AccessKind kind, bool user)
    {
        ulong vpn = linear >> Page.Shift;
        int slot = ((int)kind * 2 + (user ? 1 : 0)) * DtlbSize + (int)(vpn & (DtlbSize - 1));
        var page = _dtlbPage[slot];
        return page is not null && _dtlbTag[slot] == vpn ? page : null;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref byte At(Page page, int off) =>
        ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(page.Bytes!), off);

    /// <summary>Reads <paramref name="size"/> bytes through a cached translation, or returns false (nothing read, nothing raised).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryReadFast(ulong linear, int size, bool user, out ulong value)
    {
        int off = (int)(linear & Page.OffsetMask);
        if (BitConverter.IsLittleEndian && off <= Page.Size - size && DtlbHit(linear, AccessKind.Read, user) is { } page)
        {
            ref byte b = ref At(page, off);
            value = size switch
            {
                8 => Unsafe.ReadUnaligned<ulong>(ref b),
                4 => Unsafe.ReadUnaligned<uint>(ref b),
                2 => Unsafe.ReadUnaligned<ushort>(ref b),
                _ => b,
            };
            return true;
        }
        value = 0;
        return false;
    }

    /// <summary>Writes through a cached translation to a page without decoded code, or returns false (nothing written).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryWriteFast(ulong linear, int size, ulong value, bool user)
    {
        int off = (int)(linear & Page.OffsetMask);
        if (BitConverter.IsLittleEndian && off <= Page.Size - size && DtlbHit(linear, AccessKind.Write, user) is { HoldsCode: false } page)
        {
            ref byte b = ref At(page, off);
            switch (size)
            {
                case 8: Unsafe.WriteUnaligned(ref b, value); break;
                case 4: Unsafe.WriteUnaligned(ref b, (uint)value); break;
                case 2: Unsafe.WriteUnaligned(ref b, (ushort)value); break;
                default: b = (byte)value; break;
            }
            return true;
        }
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong ReadAs(ulong linear, int size, bool user) =>
        TryReadFast(linear, size, user, out ulong v) ? v : ReadSlow(linear, size, user);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong ReadSlow(ulong linear, int size, bool user)
    {
        int off = (int)(linear & Page.OffsetMask);
        if (off + size <= Page.Size)
        {
            var span = Translate(linear, AccessKind.Read, user).Data.AsSpan(off);
            return size switch
            {
                1 => span[0],
                2 => BinaryPrimitives.ReadUInt16LittleEndian(span),
                4 => BinaryPrimitives.ReadUInt32LittleEndian(span),
                _ => BinaryPrimitives.ReadUInt64LittleEndian(span),
            };
        }
        // Split access: both pages are checked before the value is assembled.
        var p1 = Translate(linear, AccessKind.Read, user);
        var p2 = Translate(linear + (ulong)(Page.Size - off), AccessKind.Read, user);
        ulong v = 0;
        for (int i = 0; i < size; i++)
        {
            int o = off + i;
            byte b = o < Page.Size ? p1.Data[o] : p2.Data[o - Page.Size];
            v |= (ulong)b << (8 * i);
        }
        return v;
    }

    internal void Write(ulong linear, int size, ulong value) => WriteAs(linear, size, value, Cpl == 3);

    internal void WriteSys(ulong linear, int size, ulong value) => WriteAs(linear, size, value, user: false);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void WriteAs(ulong linear, int size, ulong value, bool user)
    {
        if (!TryWriteFast(linear, size, value, user)) WriteSlow(linear, size, value, user);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WriteSlow(ulong linear, int size, ulong value, bool user)
    {
        int off = (int)(linear & Page.OffsetMask);
        if (off + size <= Page.Size)
        {
            var page = Translate(linear, AccessKind.Write, user);
            var span = page.Data.AsSpan(off);
            switch (size)
            {
                case 1: span[0] = (byte)value; break;
                case 2: BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)value); break;
                case 4: BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)value); break;
                default: BinaryPrimitives.WriteUInt64LittleEndian(span, value); break;
            }
            if (page.HoldsCode) Memory.NoteWrite(page);
            return;
        }
        var p1 = Translate(linear, AccessKind.Write, user);
        var p2 = Translate(linear + (ulong)(Page.Size - off), AccessKind.Write, user);
        for (int i = 0; i < size; i++)
        {
            int o = off + i;
            byte b = (byte)(value >> (8 * i));
            if (o < Page.Size) p1.Data[o] = b; else p2.Data[o - Page.Size] = b;
        }
        if (p1.HoldsCode) Memory.NoteWrite(p1);
        if (p2.HoldsCode) Memory.NoteWrite(p2);
    }

    /// <summary>Checks a write would succeed without doing it, so multi-part updates can fault before changing anything.</summary>
    internal void ProbeWrite(ulong linear, int size, bool user)
    {
        Translate(linear, AccessKind.Write, user);
        // The second page is probed at its first byte, the first byte the access touches there: a fault reports that
        // address in CR2, as the split path of WriteAs does (not the access's last byte).
        if (((linear & Page.OffsetMask) + (ulong)size) > Page.Size) Translate(Wrap((linear & ~Page.OffsetMask) + Page.Size), AccessKind.Write, user);
    }

    // ---- Stack ----

    /// <summary>The stack address size: 64 in 64-bit mode, else SS.B (32 or 16).</summary>
    internal int StackAddrBytes => Mode == CpuMode.Long64 ? 8 : Seg[(int)SegReg.SS].D ? 4 : 2;

    internal ulong StackLinear(ulong sp)
    {
        if (Mode == CpuMode.Long64)
        {
            if (!IsCanonical(sp)) throw CpuFaultException.Ss(0, $"stack address 0x{sp:x} is not canonical");
            return sp;
        }
        ref var ss = ref Seg[(int)SegReg.SS];
        // Outside 64-bit mode an unusable SS (a null selector, or AMD's stale SYSRET attributes) faults every stack access.
        if (ss.Unusable) throw CpuFaultException.Ss(0, "stack access through an unusable SS");
        return (uint)(ss.Base + sp);
    }

    internal ulong MaskSp(ulong sp) => StackAddrBytes switch
    {
        8 => sp,
        4 => (uint)sp,
        _ => (R[4] & ~0xFFFFUL) | (ushort)sp,
    };

    /// <summary>Whether SS is a flat 32-bit stack segment (usable, base 0, B set): the stack address is then ESP itself.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool FlatStack32()
    {
        ref var ss = ref Seg[(int)SegReg.SS];
        return !ss.Unusable && ss.D && ss.Base == 0;
    }

    /// <summary>
    /// The hit path of a push: 64-bit mode (a cached translation implies a canonical address) or a flat 32-bit stack,
    /// the slot through the DTLB. <paramref name="rsp"/> is updated only when the value was written; false changes nothing.
    /// The compiled blocks call this with RSP in a local, the interpreter with <see cref="R"/>[4].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryPushFast(ref ulong rsp, int size, ulong value)
    {
        ulong sp = rsp - (ulong)size;
        if (Mode == CpuMode.Long64)
        {
            if (!TryWriteFast(sp, size, value, Cpl == 3)) return false;
            rsp = sp;
            return true;
        }
        if (!FlatStack32() || !TryWriteFast((uint)sp, size, value, Cpl == 3)) return false;
        rsp = (uint)sp;
        return true;
    }

    /// <summary>The hit path of a pop, as <see cref="TryPushFast"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryPopFast(ref ulong rsp, int size, out ulong value)
    {
        ulong top = rsp;
        if (Mode == CpuMode.Long64)
        {
            if (!TryReadFast(top, size, Cpl == 3, out value)) return false;
            rsp = top + (ulong)size;
            return true;
        }
        value = 0;
        if (!FlatStack32() || !TryReadFast((uint)top, size, Cpl == 3, out value)) return false;
        rsp = (uint)(top + (ulong)size);
        return true;
    }

    /// <summary>The hit path of a data read at segment:offset (ReadOp's Read(Linear(o))), or false with nothing raised.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryReadSegmentFast(int seg, ulong offset, int size, out ulong value)
    {
        ulong linear;
        if (Mode == CpuMode.Long64) linear = seg >= (int)SegReg.FS ? offset + Seg[seg].Base : offset;
        else
        {
            ref var s = ref Seg[seg];
            if (s.Unusable) { value = 0; return false; }
            linear = (uint)(s.Base + offset);
        }
        return TryReadFast(linear, size, Cpl == 3, out value);
    }

    /// <summary>
    /// Opens a compiled block's stack window: the page under the stack address <paramref name="linear"/> (already
    /// truncated to 32 bits outside 64-bit mode), when the stack is flat, an access of <paramref name="size"/> bytes
    /// there stays in the page, and the DTLB holds a write translation for it at this CPL on a page without decoded
    /// code. Writable is readable at the same privilege, so pushes, pops and stack-relative loads inside the page need
    /// only a bounds check, until something that could change the mapping, CPL, SS or the page's code runs — and only a
    /// call into the interpreter's handlers can, which closes the window. False opens nothing and raises nothing.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal bool TryStackWindow(ulong linear, int size, out byte[]? data, out ulong pageBase)
    {
        data = null;
        pageBase = 0;
        if (!BitConverter.IsLittleEndian || (linear & Page.OffsetMask) > (ulong)(Page.Size - size)) return false;
        if (Mode != CpuMode.Long64 && (!FlatStack32() || linear > uint.MaxValue)) return false;
        if (DtlbHit(linear, AccessKind.Write, Cpl == 3) is not { HoldsCode: false } page || page.Bytes is not { } bytes) return false;
        data = bytes;
        pageBase = linear & ~Page.OffsetMask;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Push(int size, ulong value)
    {
        if (!TryPushFast(ref R[4], size, value)) PushSlow(size, value);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void PushSlow(int size, ulong value)
    {
        if (Mode == CpuMode.Long64)
        {
            // 64-bit mode: no segment base, no wrap — just the canonical check.
            ulong sp64 = R[4] - (ulong)size;
            if (!IsCanonical(sp64)) throw NonCanonicalStack(sp64);
            Write(sp64, size, value);
            R[4] = sp64;
            return;
        }
        ulong sp = R[4] - (ulong)size;
        if (StackAddrBytes == 4) sp = (uint)sp; else if (StackAddrBytes == 2) sp = (ushort)sp;
        Write(StackLinear(sp), size, value);
        R[4] = MaskSp(sp);
    }

    private static CpuFaultException NonCanonicalStack(ulong sp) => CpuFaultException.Ss(0, $"stack address 0x{sp:x} is not canonical");

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong Pop(int size) => TryPopFast(ref R[4], size, out ulong v) ? v : PopSlow(size);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong PopSlow(int size)
    {
        if (Mode == CpuMode.Long64)
        {
            ulong top = R[4];
            if (!IsCanonical(top)) throw NonCanonicalStack(top);
            ulong v64 = Read(top, size);
            R[4] = top + (ulong)size;
            return v64;
        }
        ulong sp = StackAddrBytes switch { 8 => R[4], 4 => (uint)R[4], _ => (ushort)R[4] };
        ulong v = Read(StackLinear(sp), size);
        R[4] = MaskSp(sp + (ulong)size);
        return v;
    }

    internal ulong Peek(int size, int offset)
    {
        ulong sp = StackAddrBytes switch { 8 => R[4], 4 => (uint)R[4], _ => (ushort)R[4] };
        return Read(StackLinear(sp + (ulong)offset), size);
    }
}
