using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu;

/// <summary>SYSENTER (0F 34): checks, then the legacy and IA-32e arms. Nothing of the caller is saved.</summary>
public sealed partial class Cpu
{
    internal static void Sysenter(Cpu cpu, Op op) => cpu.ExecuteSysenter();

    internal void ExecuteSysenter()
    {
        var fromMode = Mode;
        ushort fromCs = Seg[(int)SegReg.CS].Selector;
        ulong fromIp = Rip;
        int fromCpl = Cpl;
        bool longMode = (Efer & Msr.EferLma) != 0;

        // 1. Protected mode is required.
        if ((Cr0 & ControlBits.Cr0Pe) == 0) throw CpuFaultException.Gp(0, "SYSENTER in real mode");
        // 2. AMD does not implement SYSENTER in long mode (64-bit or compatibility).
        if (longMode && !Profile.SysenterInLongMode) throw CpuFaultException.Ud($"SYSENTER in {Mode.Describe()} is #UD on {Profile.Vendor}");
        // 3. IA32_SYSENTER_CS must name a selector.
        ulong sysCs = MsrValue(Msr.SysenterCs);
        if ((sysCs & 0xFFFC) == 0) throw CpuFaultException.Gp(0, "SYSENTER with IA32_SYSENTER_CS[15:2] = 0");

        SetFlagsRest(FlagsRest & ~(RFlags.VM | RFlags.IF | RFlags.RF));
        ushort cs = (ushort)(sysCs & 0xFFFC);
        Seg[(int)SegReg.CS] = Segment.Flat(cs, 0, code: true, longCode: longMode);
        Seg[(int)SegReg.SS] = Segment.Flat((ushort)(cs + 8), 0, code: false, longCode: false);
        Cpl = 0;
        UpdateMode();
        if (longMode)
        {
            R[4] = MsrValue(Msr.SysenterEsp);
            Rip = MsrValue(Msr.SysenterEip);
        }
        else
        {
            R[4] = (uint)MsrValue(Msr.SysenterEsp);
            Rip = (uint)MsrValue(Msr.SysenterEip);
        }
        // TF is not cleared: a single-step trap is taken at the first kernel instruction, as on hardware.
        NotifyFar(FarTransferKind.Sysenter, "SYSENTER", fromCs, fromIp, fromCpl, fromMode);
    }
}
