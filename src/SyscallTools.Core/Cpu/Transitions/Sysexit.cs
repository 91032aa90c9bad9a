using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu;

/// <summary>SYSEXIT (0F 35): 32-bit form to CS+16/SS+24, 64-bit (REX.W) form to CS+32/SS+40. RFLAGS untouched.</summary>
public sealed partial class Cpu
{
    internal static void Sysexit(Cpu cpu, Op op) => cpu.ExecuteSysexit(op.I.Mnemonic == Iced.Intel.Mnemonic.Sysexitq ? 8 : 4);

    internal void ExecuteSysexit(int size)
    {
        string name = size == 8 ? "SYSEXITQ" : "SYSEXIT";
        var fromMode = Mode;
        ushort fromCs = Seg[(int)SegReg.CS].Selector;
        ulong fromIp = Rip;
        int fromCpl = Cpl;
        bool longMode = (Efer & Msr.EferLma) != 0;

        // 1. AMD: not in long mode.
        if (longMode && !Profile.SysenterInLongMode) throw CpuFaultException.Ud($"{name} in {Mode.Describe()} is #UD on {Profile.Vendor}");
        // 2. IA32_SYSENTER_CS must be set, CPL must be 0, protected mode required.
        ulong sysCs = MsrValue(Msr.SysenterCs);
        if ((sysCs & 0xFFFC) == 0) throw CpuFaultException.Gp(0, $"{name} with IA32_SYSENTER_CS[15:2] = 0");
        if (Cpl != 0) throw CpuFaultException.Gp(0, $"{name} at CPL {Cpl}");
        if ((Cr0 & ControlBits.Cr0Pe) == 0) throw CpuFaultException.Gp(0, $"{name} in real mode");
        // 3. The 64-bit form needs canonical RCX/RDX (Intel raises #GP(0) in ring 0).
        if (size == 8 && (!IsCanonical(R[1]) || !IsCanonical(R[2])))
            throw CpuFaultException.Gp(0, $"{name} with non-canonical RDX 0x{R[2]:x} or RCX 0x{R[1]:x}");

        ushort baseSel = (ushort)(sysCs & 0xFFFC);
        if (size == 8)
        {
            Seg[(int)SegReg.CS] = Segment.Flat((ushort)((baseSel + 32) | 3), 3, code: true, longCode: true);
            Seg[(int)SegReg.SS] = Segment.Flat((ushort)((baseSel + 40) | 3), 3, code: false, longCode: false);
            R[4] = R[1];
            Rip = R[2];
        }
        else
        {
            Seg[(int)SegReg.CS] = Segment.Flat((ushort)((baseSel + 16) | 3), 3, code: true, longCode: false);
            Seg[(int)SegReg.SS] = Segment.Flat((ushort)((baseSel + 24) | 3), 3, code: false, longCode: false);
            R[4] = (uint)R[1];
            Rip = (uint)R[2];
        }
        Cpl = 3;
        UpdateMode();
        NotifyFar(FarTransferKind.Sysexit, name, fromCs, fromIp, fromCpl, fromMode);
    }
}
