using System.Buffers.Binary;
using System.Runtime.CompilerServices;
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

    internal ulong ReadAs(ulong linear, int size, bool user)
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

    internal void WriteAs(ulong linear, int size, ulong value, bool user)
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
        if (((linear & Page.OffsetMask) + (ulong)size) > Page.Size) Translate(linear + (ulong)size - 1, AccessKind.Write, user);
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

    internal void Push(int size, ulong value)
    {
        if (Mode == CpuMode.Long64)
        {
            // 64-bit mode: no segment base, no wrap — just the canonical check.
            ulong sp64 = R[4] - (ulong)size;
            if (!IsCanonical(sp64)) throw CpuFaultException.Ss(0, $"stack address 0x{sp64:x} is not canonical");
            int off = (int)(sp64 & Page.OffsetMask);
            if (size == 8 && off <= Page.Size - 8)
            {
                // The common case (a quadword within one page), written in place: the entry stubs push ~20 of these.
                var page = Translate(sp64, AccessKind.Write, Cpl == 3);
                BinaryPrimitives.WriteUInt64LittleEndian(page.Data.AsSpan(off), value);
                if (page.HoldsCode) Memory.NoteWrite(page);
            }
            else Write(sp64, size, value);
            R[4] = sp64;
            return;
        }
        ulong sp = R[4] - (ulong)size;
        if (StackAddrBytes == 4) sp = (uint)sp; else if (StackAddrBytes == 2) sp = (ushort)sp;
        Write(StackLinear(sp), size, value);
        R[4] = MaskSp(sp);
    }

    internal ulong Pop(int size)
    {
        if (Mode == CpuMode.Long64)
        {
            ulong top = R[4];
            if (!IsCanonical(top)) throw CpuFaultException.Ss(0, $"stack address 0x{top:x} is not canonical");
            int off = (int)(top & Page.OffsetMask);
            ulong v64 = size == 8 && off <= Page.Size - 8
                ? BinaryPrimitives.ReadUInt64LittleEndian(Translate(top, AccessKind.Read, Cpl == 3).Data.AsSpan(off))
                : Read(top, size);
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
