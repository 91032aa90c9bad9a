namespace SyscallTools.Core.Cpu;

/// <summary>Descriptor-table reads and the protected-mode segment-load checks (SDM Vol. 3A §5.4–5.8).</summary>
public sealed partial class Cpu
{
    /// <summary>Reads the 8-byte descriptor a selector names, or raises #GP(selector) past the table limit.</summary>
    internal ulong ReadDescriptor(ushort sel, uint errorExt = 0)
    {
        bool ldt = (sel & 4) != 0;
        ulong tableBase = ldt ? Ldtr.Base : Gdtr.Base;
        ulong limit = ldt ? (Ldtr.Unusable || Ldtr.Selector == 0 ? 0 : Ldtr.Limit) : Gdtr.Limit;
        ulong index = (ulong)(sel & ~7);
        if ((ldt && (Ldtr.Selector == 0 || Ldtr.Unusable)) || index + 7 > limit)
            throw CpuFaultException.Gp((uint)(sel & ~3) | errorExt, $"selector 0x{sel:x} is outside the {(ldt ? "LDT" : "GDT")} limit");
        return ReadSys(tableBase + index, 8);
    }

    /// <summary>Decodes a legacy 8-byte segment descriptor into a segment cache.</summary>
    public static Segment ParseDescriptor(ushort selector, ulong d)
    {
        uint limit = (uint)(d & 0xFFFF) | (uint)((d >> 32) & 0xF0000);
        bool g = ((d >> 55) & 1) != 0;
        if (g) limit = (limit << 12) | 0xFFF;
        return new Segment
        {
            Selector = selector,
            Base = ((d >> 16) & 0xFFFFFF) | (((d >> 56) & 0xFF) << 24),
            Limit = limit,
            Type = (byte)((d >> 40) & 0xF),
            S = ((d >> 44) & 1) != 0,
            Dpl = (byte)((d >> 45) & 3),
            Present = ((d >> 47) & 1) != 0,
            L = ((d >> 53) & 1) != 0,
            D = ((d >> 54) & 1) != 0,
            G = g,
        };
    }

    /// <summary>Builds a legacy 8-byte descriptor (for laying out a GDT).</summary>
    public static ulong MakeDescriptor(uint baseAddr, uint limit, byte type, bool s, int dpl, bool present, bool l, bool d, bool g)
    {
        ulong v = (limit & 0xFFFF) | ((ulong)(baseAddr & 0xFFFFFF) << 16) | ((ulong)(type & 0xF) << 40)
                  | ((s ? 1UL : 0) << 44) | ((ulong)(dpl & 3) << 45) | ((present ? 1UL : 0) << 47)
                  | ((ulong)((limit >> 16) & 0xF) << 48) | ((l ? 1UL : 0) << 53) | ((d ? 1UL : 0) << 54)
                  | ((g ? 1UL : 0) << 55) | ((ulong)(baseAddr >> 24) << 56);
        return v;
    }

    /// <summary>MOV/POP to a data segment register or SS, with every protected-mode check.</summary>
    internal void LoadDataSegment(SegReg reg, ushort sel)
    {
        if (Mode == CpuMode.Real) { Seg[(int)reg].Selector = sel; Seg[(int)reg].Base = (ulong)sel << 4; return; }
        bool isSs = reg == SegReg.SS;
        if ((sel & ~3) == 0)
        {
            if (isSs && !(Mode == CpuMode.Long64 && Cpl < 3 && (sel & 3) == Cpl))
                throw CpuFaultException.Gp(0, "loading SS with a null selector");
            ref var sr = ref Seg[(int)reg];
            // The hidden part of a null load records the CPL it happened at: a null selector loaded in ring 0 is
            // cleared to 0 by the next IRET to ring 3 (see ValidateDataSegmentsAfterReturn).
            sr = new Segment { Selector = sel, Unusable = true, Base = Mode == CpuMode.Long64 && reg >= SegReg.FS ? sr.Base : 0, Dpl = (byte)Cpl };
            return;
        }
        var desc = ParseDescriptor(sel, ReadDescriptor(sel));
        uint err = (uint)(sel & ~3);
        if (isSs)
        {
            if ((sel & 3) != Cpl) throw CpuFaultException.Gp(err, $"SS selector 0x{sel:x}: RPL != CPL {Cpl}");
            if (!desc.IsWritableData) throw CpuFaultException.Gp(err, $"SS selector 0x{sel:x} is not a writable data segment");
            if (desc.Dpl != Cpl) throw CpuFaultException.Gp(err, $"SS selector 0x{sel:x}: DPL {desc.Dpl} != CPL {Cpl}");
            if (!desc.Present) throw CpuFaultException.Ss(err, $"SS selector 0x{sel:x} is not present");
        }
        else
        {
            if (!desc.S || (desc.IsCode && !desc.IsReadable))
                throw CpuFaultException.Gp(err, $"selector 0x{sel:x} is not a data or readable code segment");
            if (!desc.IsConforming && ((sel & 3) > desc.Dpl || Cpl > desc.Dpl))
                throw CpuFaultException.Gp(err, $"selector 0x{sel:x}: DPL {desc.Dpl} is more privileged than CPL {Cpl} / RPL {sel & 3}");
            if (!desc.Present) throw CpuFaultException.Np(err, $"selector 0x{sel:x} is not present");
        }
        if (Mode == CpuMode.Long64 && reg >= SegReg.FS) desc.Base = (uint)desc.Base;
        Seg[(int)reg] = desc;
    }

    /// <summary>
    /// LAR (SDM Vol. 2A "LAR"): the access-rights dword (descriptor bits 8–23 of the high word, masked 0x00F0FF00) of a
    /// descriptor the current CPL and the selector's RPL may see; false (ZF = 0) for a null or out-of-limit selector,
    /// a system type LAR does not report, or a non-conforming segment more privileged than max(CPL, RPL).
    /// </summary>
    internal bool LoadAccessRights(ushort sel, out uint accessRights)
    {
        accessRights = 0;
        if ((sel & ~3) == 0) return false;
        ulong raw;
        try { raw = ReadDescriptor(sel); }
        catch (CpuFaultException) { return false; }
        var d = ParseDescriptor(sel, raw);
        // System types LAR accepts: LDT and the available/busy TSSs and call gate of the current mode (64-bit: 2, 9, B, C).
        bool longMode = (Efer & Msr.EferLma) != 0;
        if (!d.S && !(longMode ? d.Type is 0x2 or 0x9 or 0xB or 0xC : d.Type is 0x1 or 0x2 or 0x3 or 0x4 or 0x5 or 0x9 or 0xB or 0xC))
            return false;
        if (!d.IsConforming && (d.Dpl < Cpl || d.Dpl < (sel & 3))) return false;
        accessRights = (uint)(raw >> 32) & 0x00F0FF00;
        return true;
    }

    /// <summary>
    /// A data-segment load done by kernel code on the user's behalf, whose fault the kernel's exception table turns into
    /// a null selector (loadsegment()'s fixup: "xorl %eax,%eax; jmp 1b"). Returns false when the fixup ran.
    /// </summary>
    internal bool LoadDataSegmentOrNull(SegReg reg, ushort sel)
    {
        try
        {
            LoadDataSegment(reg, sel);
            return true;
        }
        catch (CpuFaultException)
        {
            LoadDataSegment(reg, 0);
            return false;
        }
    }

    /// <summary>
    /// native_load_gs_index: SWAPGS, MOV GS, SWAPGS, so the selector's base lands in the user's GS base (KERNEL_GS_BASE
    /// while in the kernel) and the kernel's own GS base survives; a faulting selector loads null (bad_gs).
    /// </summary>
    internal bool LoadGsIndex(ushort sel)
    {
        if (Mode != CpuMode.Long64) return LoadDataSegmentOrNull(SegReg.GS, sel);
        SwapGsBase();
        try { return LoadDataSegmentOrNull(SegReg.GS, sel); }
        finally { SwapGsBase(); }
    }

    /// <summary>Checks a code-segment descriptor for a return (IRET/RETF) to privilege <paramref name="rpl"/>.</summary>
    internal Segment CheckReturnCs(ushort sel)
    {
        if ((sel & ~3) == 0) throw CpuFaultException.Gp(0, "return CS is a null selector");
        var cs = ParseDescriptor(sel, ReadDescriptor(sel));
        uint err = (uint)(sel & ~3);
        int rpl = sel & 3;
        if (!cs.IsCode) throw CpuFaultException.Gp(err, $"return CS 0x{sel:x} is not a code segment");
        if (rpl < Cpl) throw CpuFaultException.Gp(err, $"return CS 0x{sel:x}: RPL {rpl} < CPL {Cpl}");
        if (cs.IsConforming ? cs.Dpl > rpl : cs.Dpl != rpl) throw CpuFaultException.Gp(err, $"return CS 0x{sel:x}: DPL {cs.Dpl} does not match RPL {rpl}");
        if (!cs.Present) throw CpuFaultException.Np(err, $"return CS 0x{sel:x} is not present");
        if ((Efer & Msr.EferLma) != 0 && cs.L && cs.D) throw CpuFaultException.Gp(err, $"return CS 0x{sel:x} has both L and D set");
        return cs;
    }

    /// <summary>Checks the SS popped by a return to an outer privilege level.</summary>
    internal Segment CheckReturnSs(ushort sel, int newCpl, bool to64)
    {
        if ((sel & ~3) == 0)
        {
            // Long mode allows a null SS when returning to 64-bit code below ring 3.
            if ((Efer & Msr.EferLma) != 0 && to64 && newCpl != 3 && (sel & 3) == newCpl)
                return new Segment { Selector = sel, Unusable = true, Dpl = (byte)newCpl };
            throw CpuFaultException.Gp(0, "return SS is a null selector");
        }
        var ss = ParseDescriptor(sel, ReadDescriptor(sel));
        uint err = (uint)(sel & ~3);
        if ((sel & 3) != newCpl) throw CpuFaultException.Gp(err, $"return SS 0x{sel:x}: RPL != return CS RPL {newCpl}");
        if (!ss.IsWritableData) throw CpuFaultException.Gp(err, $"return SS 0x{sel:x} is not a writable data segment");
        if (ss.Dpl != newCpl) throw CpuFaultException.Gp(err, $"return SS 0x{sel:x}: DPL {ss.Dpl} != {newCpl}");
        if (!ss.Present) throw CpuFaultException.Ss(err, $"return SS 0x{sel:x} is not present");
        return ss;
    }

    private static readonly SegReg[] DataSegments = [SegReg.ES, SegReg.DS, SegReg.FS, SegReg.GS];

    /// <summary>After a return to an outer level, data segment registers the new CPL may not use are nulled (SDM IRET: validate_seg).</summary>
    internal void ValidateDataSegmentsAfterReturn()
    {
        foreach (var r in DataSegments)
        {
            ref var s = ref Seg[(int)r];
            if (s.Unusable || (s.Selector & ~3) == 0)
            {
                // A null selector with a nonzero RPL that was loaded at a more privileged level becomes 0: "When a null
                // selector is to be loaded into a segment register, reload_segments() sets its DPL bits to 3. Later
                // when the IRET instruction loads it, it zeros the segment register" (Xin Li, x86/ia32, 2023).
                if (s.Selector != 0 && s.Dpl < Cpl) s.Selector = 0;
                continue;
            }
            bool dataOrNonConforming = !s.IsCode || !s.IsConforming;
            if (dataOrNonConforming && s.Dpl < Cpl)
            {
                ulong keepBase = Mode == CpuMode.Long64 && r >= SegReg.FS ? s.Base : 0;
                s = new Segment { Selector = 0, Unusable = true, Base = keepBase };
            }
        }
    }

    /// <summary>Loads CS with a checked descriptor and sets CPL (far transfers).</summary>
    internal void LoadCs(Segment cs, int cpl)
    {
        cs.Selector = (ushort)((cs.Selector & ~3) | cpl);
        Seg[(int)SegReg.CS] = cs;
        Cpl = cpl;
        UpdateMode();
    }
}
