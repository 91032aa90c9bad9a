namespace SyscallTools.Core.Cpu;

/// <summary>Where an interrupt comes from; decides the DPL check, the EXT bit and the pushed IP.</summary>
internal enum InterruptSource : byte
{
    /// <summary>INT n, INT3, INTO: the gate DPL is checked against CPL.</summary>
    Software,
    /// <summary>A processor exception: no DPL check, EXT = 1 in error codes.</summary>
    Exception,
    /// <summary>ICEBP (INT1): delivered like an exception, no DPL check.</summary>
    Icebp,
}

/// <summary>
/// INT n and exception delivery through the IDT (SDM Vol. 3A §6.12, Vol. 2A "INT n" operation): the gate
/// checks in the manual's order, the stack switch through the TSS on a privilege change, the 32-bit
/// or 64-bit frame, then the flag updates. Double and triple faults escalate as the hardware does.
/// </summary>
public sealed partial class Cpu
{
    /// <summary>Delivers an exception raised by an instruction; false means a triple fault (shutdown).</summary>
    internal bool RaiseException(CpuFault fault, ulong rip)
    {
        var current = fault;
        for (int depth = 0; depth < 3; depth++)
        {
            try
            {
                if (current.Vector == Vector.PF && current.Cr2 is ulong cr2) Cr2 = cr2;
                DeliverInterrupt(current.Vector, InterruptSource.Exception,
                    current.HasErrorCode ? current.ErrorCode : null, rip, isFault: !Vector.IsTrap(current.Vector));
                return true;
            }
            catch (CpuFaultException e)
            {
                var second = e.Fault with { Rip = rip, Cpl = Cpl };
                LastFault = second;
                Observer?.Fault(this, second);
                if (current.Vector == Vector.DF) return false;
                current = IsDoubleFault(current.Vector, second.Vector)
                    ? new CpuFault { Vector = Vector.DF, ErrorCode = 0, HasErrorCode = true, Rip = rip, Cpl = Cpl,
                        Reason = $"{second.Mnemonic} while delivering {current.Mnemonic}" }
                    : second;
            }
        }
        return false;
    }

    /// <summary>SDM Vol. 3A Table 6-5: which pairs of exceptions make a double fault.</summary>
    private static bool IsDoubleFault(byte first, byte second)
    {
        static bool Contributory(byte v) => v is Vector.DE or Vector.TS or Vector.NP or Vector.SS or Vector.GP;
        if (Contributory(first)) return Contributory(second);
        if (first == Vector.PF) return Contributory(second) || second == Vector.PF;
        return false;
    }

    /// <summary>
    /// Delivers vector <paramref name="vector"/> through the IDT. <paramref name="returnIp"/> is what is pushed:
    /// the faulting instruction for faults, the next one for traps and INT n.
    /// </summary>
    internal void DeliverInterrupt(byte vector, InterruptSource source, uint? errorCode, ulong returnIp, bool isFault = false, string instruction = "")
    {
        bool longMode = (Efer & Msr.EferLma) != 0;
        uint ext = source == InterruptSource.Software ? 0u : 1u;
        uint idtErr = (uint)vector * 8 + 2 + ext;
        int gateSize = longMode ? 16 : 8;
        if ((Cr0 & ControlBits.Cr0Pe) == 0) throw CpuFaultException.NotModelled("real-mode interrupt delivery");
        if ((FlagsRest & RFlags.VM) != 0) throw CpuFaultException.NotModelled("virtual-8086 interrupt delivery");

        // 1. The gate must lie inside the IDT.
        if ((ulong)vector * (ulong)gateSize + (ulong)gateSize - 1 > Idtr.Limit)
            throw CpuFaultException.Gp(idtErr, $"vector 0x{vector:x} is beyond the IDT limit 0x{Idtr.Limit:x}");
        ulong lo = ReadSys(Idtr.Base + (ulong)vector * (ulong)gateSize, 8);
        ulong hi = longMode ? ReadSys(Idtr.Base + (ulong)vector * 16 + 8, 8) : 0;
        int type = (int)((lo >> 40) & 0xF);
        int gateDpl = (int)((lo >> 45) & 3);
        bool present = ((lo >> 47) & 1) != 0;
        // 2. Only interrupt and trap gates (32-bit, or 64-bit in long mode) are modelled; task gates are not.
        bool interruptGate = type == 0xE;
        if (type == 0x5 && !longMode) throw CpuFaultException.NotModelled("task-gate interrupt delivery");
        if (type != 0xE && type != 0xF) throw CpuFaultException.Gp(idtErr, $"IDT entry 0x{vector:x} is not an interrupt or trap gate (type 0x{type:x})");
        // 3. Software interrupts may only use gates whose DPL admits the caller.
        if (source == InterruptSource.Software && gateDpl < Cpl)
            throw CpuFaultException.Gp(idtErr, $"INT 0x{vector:x}: gate DPL {gateDpl} < CPL {Cpl}");
        // 4. The gate must be present.
        if (!present) throw CpuFaultException.Np(idtErr, $"IDT gate 0x{vector:x} is not present");

        ushort csSel = (ushort)((lo >> 16) & 0xFFFF);
        ulong target = (lo & 0xFFFF) | ((lo >> 32) & 0xFFFF_0000);
        if (longMode) target |= (hi & 0xFFFF_FFFF) << 32;
        int ist = longMode ? (int)((lo >> 32) & 7) : 0;

        // 5. The target code segment.
        if ((csSel & ~3) == 0) throw CpuFaultException.Gp(ext, "interrupt gate names a null code selector");
        var cs = ParseDescriptor(csSel, ReadDescriptor(csSel, ext));
        uint csErr = (uint)(csSel & ~3) | ext;
        if (!cs.IsCode || cs.Dpl > Cpl) throw CpuFaultException.Gp(csErr, $"gate target 0x{csSel:x} is not a code segment at or above CPL");
        if (!cs.Present) throw CpuFaultException.Np(csErr, $"gate target 0x{csSel:x} is not present");
        if (longMode && (!cs.L || cs.D)) throw CpuFaultException.Gp(csErr, $"gate target 0x{csSel:x} is not a 64-bit code segment");

        var fromMode = Mode;
        ushort fromCs = Seg[(int)SegReg.CS].Selector;
        int fromCpl = Cpl;
        ulong oldFlags = Rflags;
        // Faults push RF=1 so that the return does not re-trigger an instruction breakpoint.
        ulong pushedFlags = isFault && vector != Vector.DB ? oldFlags | RFlags.RF : oldFlags;
        ulong oldSp = R[4];
        ushort oldSs = Seg[(int)SegReg.SS].Selector;
        int newCpl = cs.IsConforming ? Cpl : cs.Dpl;
        bool privilegeChange = newCpl < Cpl;

        if (longMode)
        {
            // 64-bit delivery: always push SS:RSP; a new stack from TSS.RSPn or the IST; RSP aligned to 16.
            ulong newSp;
            if (ist != 0) newSp = ReadTss(0x24 + (ist - 1) * 8, 8, "IST", ist);
            else if (privilegeChange) newSp = ReadTss(4 + newCpl * 8, 8, "RSP", newCpl);
            else newSp = oldSp;
            newSp &= ~0xFUL;
            if (!IsCanonical(newSp)) throw CpuFaultException.Ss(ext, $"interrupt stack 0x{newSp:x} is not canonical");
            int n = errorCode.HasValue ? 6 : 5;
            ulong frame = newSp - (ulong)(8 * n);
            for (int k = 0; k < n; k++) ProbeWrite(frame + (ulong)(8 * k), 8, user: false);
            ulong p = newSp;
            WriteSys(p -= 8, 8, oldSs);
            WriteSys(p -= 8, 8, oldSp);
            WriteSys(p -= 8, 8, pushedFlags);
            WriteSys(p -= 8, 8, fromCs);
            WriteSys(p -= 8, 8, returnIp);
            if (errorCode is uint ec) WriteSys(p -= 8, 8, ec);
            R[4] = p;
            if (privilegeChange)
                Seg[(int)SegReg.SS] = new Segment { Selector = (ushort)newCpl, Unusable = true, Dpl = (byte)newCpl };
        }
        else
        {
            ulong ssBase;
            uint newEsp;
            Segment newSs = Seg[(int)SegReg.SS];
            if (privilegeChange)
            {
                // 32-bit TSS: ESPn at 4 + 8n, SSn at 8 + 8n.
                newEsp = (uint)ReadTss(4 + newCpl * 8, 4, "ESP", newCpl);
                ushort ssSel = (ushort)ReadTss(8 + newCpl * 8, 2, "SS", newCpl);
                if ((ssSel & ~3) == 0) throw CpuFaultException.Ts(ext, "TSS stack selector is null");
                var d = ParseDescriptor(ssSel, ReadDescriptor(ssSel, ext));
                if ((ssSel & 3) != newCpl || d.Dpl != newCpl || !d.IsWritableData)
                    throw CpuFaultException.Ts((uint)(ssSel & ~3) | ext, $"TSS stack selector 0x{ssSel:x} is not a writable ring-{newCpl} data segment");
                if (!d.Present) throw CpuFaultException.Ss((uint)(ssSel & ~3) | ext, $"TSS stack segment 0x{ssSel:x} is not present");
                newSs = d;
                ssBase = d.Base;
            }
            else
            {
                newEsp = (uint)oldSp;
                ssBase = newSs.Base;
            }
            int n = (privilegeChange ? 5 : 3) + (errorCode.HasValue ? 1 : 0);
            uint sp = newEsp;
            for (int k = 1; k <= n; k++) ProbeWrite((uint)(ssBase + sp - (uint)(4 * k)), 4, user: false);
            void Push32(ulong v) { sp -= 4; WriteSys((uint)(ssBase + sp), 4, (uint)v); }
            if (privilegeChange) { Push32(oldSs); Push32(oldSp); }
            Push32(pushedFlags);
            Push32(fromCs);
            Push32(returnIp);
            if (errorCode is uint ec) Push32(ec);
            if (privilegeChange) Seg[(int)SegReg.SS] = newSs;
            R[4] = newSs.D ? sp : (R[4] & ~0xFFFFUL) | (ushort)sp;
        }

        // TF, NT, RF and VM are cleared; an interrupt gate also clears IF.
        ulong clear = RFlags.TF | RFlags.NT | RFlags.RF | RFlags.VM | (interruptGate ? RFlags.IF : 0);
        SetFlagsRest(FlagsRest & ~clear);
        _suppressTrap = true;
        LoadCs(cs, newCpl);
        Rip = target;
        if (Observer is not null)
        {
            var kind = source == InterruptSource.Software ? FarTransferKind.SoftwareInterrupt : FarTransferKind.Exception;
            string name = instruction.Length > 0 ? instruction : $"{Vector.Mnemonic(vector)} delivery";
            Observer.FarTransfer(this, new FarTransfer(kind, name, fromCs, returnIp, fromCpl, fromMode,
                Seg[(int)SegReg.CS].Selector, Rip, Cpl, Mode, R[4], Rflags));
        }
    }

    // The field is named by a prefix and a number (RSP0, IST1…) so that the name is only formatted on the fault path.
    private ulong ReadTss(int offset, int size, string what, int n = -1)
    {
        if (Tr.Unusable || Tr.Selector == 0 || (ulong)(offset + size - 1) > Tr.Limit)
            throw CpuFaultException.Ts((uint)(Tr.Selector & ~3) | 1, $"TSS has no {what}{(n >= 0 ? n.ToString() : "")} (TR limit 0x{Tr.Limit:x})");
        return ReadSys(Tr.Base + (ulong)offset, size);
    }

    /// <summary>Notifies the observer of a far transfer that has just completed.</summary>
    internal void NotifyFar(FarTransferKind kind, string instruction, ushort fromCs, ulong fromIp, int fromCpl, CpuMode fromMode)
    {
        Observer?.FarTransfer(this, new FarTransfer(kind, instruction, fromCs, fromIp, fromCpl, fromMode,
            Seg[(int)SegReg.CS].Selector, Rip, Cpl, Mode, R[4], Rflags));
    }
}

public sealed partial class Cpu
{
    /// <summary>INT n (CD ib), INT3 (CC), INTO (CE) and INT1/ICEBP (F1).</summary>
    internal static void SoftwareInterrupt(Cpu cpu, Decoding.Op op)
    {
        switch (op.I.Mnemonic)
        {
            case Iced.Intel.Mnemonic.Int:
            {
                byte v = op.I.Immediate8;
                // The name is for the observer; build it only when one is listening.
                cpu.DeliverInterrupt(v, InterruptSource.Software, null, cpu.Rip, instruction: cpu.Observer is null ? "" : $"INT 0x{v:x2}");
                break;
            }
            case Iced.Intel.Mnemonic.Int3:
                cpu.DeliverInterrupt(Vector.BP, InterruptSource.Software, null, cpu.Rip, instruction: "INT3");
                break;
            case Iced.Intel.Mnemonic.Into:
                if (cpu.GetOF()) cpu.DeliverInterrupt(Vector.OF, InterruptSource.Software, null, cpu.Rip, instruction: "INTO");
                break;
            default:
                cpu.DeliverInterrupt(Vector.DB, InterruptSource.Icebp, null, cpu.Rip, instruction: "INT1");
                break;
        }
    }
}
