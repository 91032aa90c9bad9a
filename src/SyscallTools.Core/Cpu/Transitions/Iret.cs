using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu;

/// <summary>
/// IRET / IRETD / IRETQ (SDM Vol. 2A "IRET"): the universal return. Every value it loads comes from the
/// stack, so it can restore any state — which is why the kernel falls back to it.
/// </summary>
public sealed partial class Cpu
{
    internal static void Iret(Cpu cpu, Op op) => cpu.ExecuteIret(op.I.Mnemonic switch
    {
        Iced.Intel.Mnemonic.Iretq => 8,
        Iced.Intel.Mnemonic.Iretd => 4,
        _ => 2,
    });

    internal void ExecuteIret(int size)
    {
        string name = size == 8 ? "IRETQ" : size == 4 ? "IRETD" : "IRET";
        bool longMode = (Efer & Msr.EferLma) != 0;
        var fromMode = Mode;
        ushort fromCs = Seg[(int)SegReg.CS].Selector;
        ulong fromIp = Rip;
        int fromCpl = Cpl;
        if (Mode == CpuMode.Real) throw CpuFaultException.NotModelled("real-mode IRET");
        if ((FlagsRest & RFlags.VM) != 0) throw CpuFaultException.NotModelled("IRET in virtual-8086 mode");

        // NT=1: a nested-task return. Long mode has no tasks: #GP(0).
        if ((FlagsRest & RFlags.NT) != 0)
        {
            if (longMode) throw CpuFaultException.Gp(0, $"{name} with EFLAGS.NT=1 in IA-32e mode");
            TaskReturn(fromCs, fromIp, fromCpl, fromMode);
            return;
        }

        // 1. Read the frame (faults here leave everything unchanged).
        bool popsStackAlways = Mode == CpuMode.Long64;
        ulong ip = Peek(size, 0);
        ushort csSel = (ushort)Peek(size, size);
        ulong flags = Peek(size, 2 * size);
        int rpl = csSel & 3;
        bool outer = rpl > Cpl;
        ulong sp = 0;
        ushort ssSel = 0;
        if (popsStackAlways || outer)
        {
            sp = Peek(size, 3 * size);
            ssSel = (ushort)Peek(size, 4 * size);
        }
        if (!longMode && (flags & RFlags.VM) != 0 && Cpl == 0)
            throw CpuFaultException.NotModelled("IRET to virtual-8086 mode");

        // 2. Check the return code segment, then the stack segment for an outer return.
        var cs = CheckReturnCs(csSel);
        bool to64 = longMode && cs.L;
        if (to64 && !IsCanonical(ip)) throw CpuFaultException.Gp(0, $"{name} to non-canonical RIP 0x{ip:x}");
        if (!to64) ip = size == 2 ? (ushort)ip : (uint)ip;
        if (!to64 && ip > cs.Limit) throw CpuFaultException.Gp(0, $"{name}: EIP 0x{ip:x} beyond the CS limit");
        Segment ss = default;
        bool loadSs = popsStackAlways || outer;
        if (loadSs)
        {
            if (outer || (ssSel & ~3) != 0 || !to64 || rpl == 3) ss = CheckReturnSs(ssSel, rpl, to64);
            else ss = new Segment { Selector = ssSel, Unusable = true, Dpl = (byte)rpl };
        }

        // 3. Commit: flags by privilege, then CS/RIP, then SS/RSP.
        ulong changeable = RFlags.Arith | RFlags.TF | RFlags.DF | RFlags.NT | RFlags.RF | RFlags.AC | RFlags.ID;
        if (Cpl == 0) changeable |= RFlags.IOPL | RFlags.IF | RFlags.VIF | RFlags.VIP;
        else if (Cpl <= RFlags.Iopl(Rflags)) changeable |= RFlags.IF;
        if (size == 2) changeable &= 0xFFFF;
        ulong newFlags = (Rflags & ~changeable) | (flags & changeable);
        if (!loadSs) R[4] = MaskSp(R[4] + (ulong)(3 * size));
        SetFlagsRest(newFlags);
        SetArith(newFlags);
        LoadCs(cs, rpl);
        Rip = ip;
        if (loadSs)
        {
            Seg[(int)SegReg.SS] = ss;
            if (!to64 && !ss.D)
            {
                // A 16-bit stack segment: only SP is loaded; ESP[31:16] stay the kernel's (what espfix works around),
                // and after IRETQ RSP[63:32] are zeroed (Intel) or left as the kernel's (AMD).
                ulong kernel = R[4];
                ulong high = size == 8 && Profile.IretSs16KeepsKernelRspHigh ? kernel & ~0xFFFF_FFFFUL : 0;
                R[4] = high | ((uint)kernel & 0xFFFF_0000u) | (ushort)sp;
            }
            else R[4] = size == 8 ? sp : size == 4 ? (uint)sp : (R[4] & ~0xFFFFUL) | (ushort)sp;
        }
        if (outer) ValidateDataSegmentsAfterReturn();
        NotifyFar(FarTransferKind.Iret, name, fromCs, fromIp, fromCpl, fromMode);
    }

    /// <summary>
    /// The legacy-mode nested-task return: the back link of the current TSS must name a busy 32-bit TSS.
    /// Linux never sets up nested tasks, so in practice this raises #TS — the reason the kernel must clear NT.
    /// </summary>
    private void TaskReturn(ushort fromCs, ulong fromIp, int fromCpl, CpuMode fromMode)
    {
        ushort link = (ushort)ReadTss(0, 2, "back link");
        if ((link & 4) != 0 || (link & ~7) == 0 || (ulong)(link & ~7) + 7 > Gdtr.Limit)
            throw CpuFaultException.Ts((uint)(link & ~3), $"IRET with NT=1: TSS back link 0x{link:x} is not a GDT selector");
        var d = ParseDescriptor(link, ReadSys(Gdtr.Base + (ulong)(link & ~7), 8));
        if (d.S || d.Type != 0xB)
            throw CpuFaultException.Ts((uint)(link & ~3), $"IRET with NT=1: TSS back link 0x{link:x} is not a busy 32-bit TSS");
        if (!d.Present) throw CpuFaultException.Np((uint)(link & ~3), $"IRET with NT=1: TSS 0x{link:x} is not present");
        if (d.Limit < 0x67) throw CpuFaultException.Ts((uint)(link & ~3), $"IRET with NT=1: TSS 0x{link:x} is too small");

        // Save the outgoing task's state into its TSS (SDM Vol. 3A §7.3), clear NT in the saved flags,
        // mark the outgoing TSS not busy.
        ulong cur = Tr.Base;
        ulong flagsOut = Rflags & ~RFlags.NT;
        WriteSys(cur + 0x20, 4, (uint)Rip);
        WriteSys(cur + 0x24, 4, (uint)flagsOut);
        for (int r = 0; r < 8; r++) WriteSys(cur + 0x28 + (ulong)(4 * r), 4, (uint)R[r]);
        for (int s = 0; s < 6; s++) WriteSys(cur + 0x48 + (ulong)(4 * s), 2, Seg[s].Selector);
        MarkTssBusy(Tr.Selector, busy: false);

        // Load the incoming task.
        ulong nb = d.Base;
        ulong eip = ReadSys(nb + 0x20, 4);
        ulong eflags = ReadSys(nb + 0x24, 4);
        for (int r = 0; r < 8; r++) R[r] = ReadSys(nb + 0x28 + (ulong)(4 * r), 4);
        Tr = d;
        var sels = new ushort[6];
        for (int s = 0; s < 6; s++) sels[s] = (ushort)ReadSys(nb + 0x48 + (ulong)(4 * s), 2);
        Rflags = eflags | RFlags.Fixed;
        var cs = ParseDescriptor(sels[(int)SegReg.CS], ReadDescriptor(sels[(int)SegReg.CS]));
        if (!cs.IsCode) throw CpuFaultException.Ts((uint)(sels[(int)SegReg.CS] & ~3), "task's CS is not a code segment");
        LoadCs(cs, sels[(int)SegReg.CS] & 3);
        foreach (var s in new[] { SegReg.SS, SegReg.DS, SegReg.ES, SegReg.FS, SegReg.GS })
            LoadDataSegment(s, sels[(int)s]);
        Rip = eip;
        NotifyFar(FarTransferKind.TaskSwitch, "IRET (task return)", fromCs, fromIp, fromCpl, fromMode);
    }

    private void MarkTssBusy(ushort sel, bool busy)
    {
        if ((sel & ~7) == 0) return;
        ulong at = Gdtr.Base + (ulong)(sel & ~7) + 5;
        ulong b = ReadSys(at, 1);
        WriteSys(at, 1, busy ? b | 0x2 : b & ~0x2UL);
    }
}
