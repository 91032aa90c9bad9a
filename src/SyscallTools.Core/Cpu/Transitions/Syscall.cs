using SyscallTools.Core.Cpu.Decoding;

namespace SyscallTools.Core.Cpu;

/// <summary>SYSCALL (0F 05), SDM Vol. 2B and AMD APM Vol. 3: checks, then one arm per mode.</summary>
public sealed partial class Cpu
{
    internal static void Syscall(Cpu cpu, Op op) => cpu.ExecuteSyscall();

    internal void ExecuteSyscall()
    {
        var fromMode = Mode;
        ushort fromCs = Seg[(int)SegReg.CS].Selector;
        ulong fromIp = Rip; // already the next instruction
        int fromCpl = Cpl;

        // 1. EFER.SCE must be set.
        if ((Efer & Msr.EferSce) == 0) throw CpuFaultException.Ud("SYSCALL with EFER.SCE=0");
        // 2. Intel implements SYSCALL only in 64-bit mode; AMD also in legacy and compatibility mode.
        if (Mode != CpuMode.Long64 && !Profile.SyscallOutside64BitMode)
            throw CpuFaultException.Ud($"SYSCALL in {Mode.Describe()} is #UD on {Profile.Vendor}");

        ulong star = MsrValue(Msr.Star);
        ushort kcs = (ushort)((star >> 32) & 0xFFFC);
        if ((Efer & Msr.EferLma) != 0)
        {
            // Long mode (64-bit or compatibility): RCX/R11 hold the return state; CSTAR serves compat callers.
            R[1] = Rip;
            // RFLAGS once: the status flags may be a lazy record, and materialising it is the dearest step here.
            ulong flags = Rflags;
            R[11] = flags & ~RFlags.RF;
            ulong target = Mode == CpuMode.Long64 ? MsrValue(Msr.Lstar) : MsrValue(Msr.Cstar);
            Seg[(int)SegReg.CS] = Segment.Flat(kcs, 0, code: true, longCode: true);
            Seg[(int)SegReg.SS] = Segment.Flat((ushort)(kcs + 8), 0, code: false, longCode: false);
            Cpl = 0;
            UpdateMode();
            ulong fmask = MsrValue(Msr.Fmask);
            SetFlagsRest(flags & ~fmask & ~RFlags.RF);
            SetArith(flags & ~fmask);
            Rip = target;
        }
        else
        {
            // Legacy mode (AMD): ECX = return EIP; only IF, RF and VM are cleared; no R11, no FMASK.
            R[1] = (uint)Rip;
            Seg[(int)SegReg.CS] = Segment.Flat(kcs, 0, code: true, longCode: false);
            Seg[(int)SegReg.SS] = Segment.Flat((ushort)(kcs + 8), 0, code: false, longCode: false);
            Cpl = 0;
            UpdateMode();
            SetFlagsRest(FlagsRest & ~(RFlags.IF | RFlags.RF | RFlags.VM));
            Rip = (uint)star;
        }
        // With TF masked off there is no single-step trap in the kernel (the selftest single_step_syscall relies on it).
        if ((FlagsRest & RFlags.TF) == 0) _suppressTrap = true;
        NotifyFar(FarTransferKind.Syscall, "SYSCALL", fromCs, fromIp, fromCpl, fromMode);
    }
}
