using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu;

/// <summary>SYSRET (0F 07): SYSRETQ with REX.W, SYSRETL without. Checks, then one arm per mode.</summary>
public sealed partial class Cpu
{
    internal static void Sysret(Cpu cpu, Op op) => cpu.ExecuteSysret(op.I.Mnemonic == Iced.Intel.Mnemonic.Sysretq ? 8 : 4);

    internal void ExecuteSysret(int size)
    {
        string name = size == 8 ? "SYSRETQ" : "SYSRETL";
        var fromMode = Mode;
        ushort fromCs = Seg[(int)SegReg.CS].Selector;
        ulong fromIp = Rip;
        int fromCpl = Cpl;

        // 1. EFER.SCE must be set.
        if ((Efer & Msr.EferSce) == 0) throw CpuFaultException.Ud($"{name} with EFER.SCE=0");
        // 2. Intel: only in 64-bit mode.
        if (Mode != CpuMode.Long64 && !Profile.SyscallOutside64BitMode)
            throw CpuFaultException.Ud($"{name} in {Mode.Describe()} is #UD on {Profile.Vendor}");
        // 3. Only ring 0 may return.
        if (Cpl != 0) throw CpuFaultException.Gp(0, $"{name} at CPL {Cpl}");
        // 4. Intel checks RCX before leaving ring 0: the #GP is taken in ring 0, on whatever RSP the kernel loaded.
        if (size == 8 && Profile.SysretNonCanonicalGpInRing0 && !IsCanonical(R[1]))
            throw CpuFaultException.Gp(0, $"{name} to non-canonical RCX 0x{R[1]:x} (Intel: #GP in ring 0)");

        ulong star = MsrValue(Msr.Star);
        ushort ubase = (ushort)((star >> 48) & 0xFFFF);
        var oldSs = Seg[(int)SegReg.SS];
        if ((Efer & Msr.EferLma) != 0)
        {
            if (size == 8)
            {
                Seg[(int)SegReg.CS] = Segment.Flat((ushort)((ubase + 16) | 3), 3, code: true, longCode: true);
                Rip = R[1];
            }
            else
            {
                Seg[(int)SegReg.CS] = Segment.Flat((ushort)(ubase | 3), 3, code: true, longCode: false);
                Rip = (uint)R[1];
            }
            ulong flags = (R[11] & RFlags.SysretMask) | RFlags.Fixed;
            SetFlagsRest(flags);
            SetArith(flags);
            // Unlike IRET (whose target instruction runs first), a TF loaded here traps at once, before any user
            // instruction: entry_64.S's "restoring TF results in a trap from userspace immediately after SYSRET".
            if ((flags & RFlags.TF) != 0) { _stepTrapPending = true; _stepTrapRip = Rip; BreakBlock = true; }
        }
        else
        {
            // Legacy mode (AMD): EIP = ECX and IF is set; other flags unchanged.
            Seg[(int)SegReg.CS] = Segment.Flat((ushort)(ubase | 3), 3, code: true, longCode: false);
            Rip = (uint)R[1];
            SetFlagsRest(FlagsRest | RFlags.IF);
        }
        ushort ssSel = (ushort)((ubase + 8) | 3);
        if (Profile.SysretKeepsSsAttributes)
        {
            // AMD (X86_BUG_SYSRET_SS_ATTRS): only the selector changes; the hidden attributes stay the kernel's.
            oldSs.Selector = ssSel;
            Seg[(int)SegReg.SS] = oldSs;
        }
        else
        {
            Seg[(int)SegReg.SS] = Segment.Flat(ssSel, 3, code: false, longCode: false);
        }
        Cpl = 3;
        UpdateMode();
        NotifyFar(FarTransferKind.Sysret, name, fromCs, fromIp, fromCpl, fromMode);
    }
}
