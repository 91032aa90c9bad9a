using SyscallTools.Core.Cpu;
using static SyscallTools.Core.Linux.SignalFrames;

namespace SyscallTools.Core.Linux;

/// <summary>
/// sigreturn and rt_sigreturn (arch/x86/kernel/signal.c restore_sigcontext; ia32_signal.c / signal_32.c for i386
/// frames): put back what the frame says, with the kernel's rules for each segment register, per version.
/// </summary>
public sealed partial class LinuxMachine
{
    /// <summary>sigreturn (i386) and rt_sigreturn: restore the interrupted registers and mask from the frame.</summary>
    internal long SigReturn(bool rt, PtRegs regs) => Task.Bitness == 64 ? RtSigreturn64(regs) : Sigreturn32(rt, regs);

    /// <summary>
    /// The 64-bit rt_sigreturn. CS always comes from the frame with RPL forced to 3. SS: 4.6+ takes it from the
    /// frame too, and when UC_STRICT_RESTORE_SS is clear and the target is 64-bit code, force_valid_ss() repairs an
    /// unusable one ("for the benefit of old DOSEMU and CRIU"). Before 4.6 SS is not read at all: the return uses
    /// the pt_regs->ss the rt_sigreturn entry pushed (__USER_DS). DS/ES/FS/GS are never touched.
    /// </summary>
    private long RtSigreturn64(PtRegs regs)
    {
        ulong frame = regs.Sp - 8;                          // the handler's ret popped pretcode
        var f = new byte[RtFrame64.Size];
        if (!UserMemory.TryRead(frame, f)) return BadFrame(regs);
        SignalState.Blocked = BitConverter.ToUInt64(f, RtFrame64.UcSigmask) & ~SignalState.Unblockable;
        RecalcSigPending();
        int sc = RtFrame64.UcMcontext;
        ulong G(int at) => BitConverter.ToUInt64(f, at);
        regs.R8 = G(sc + Sc64.R8); regs.R9 = G(sc + Sc64.R9); regs.R10 = G(sc + Sc64.R10); regs.R11 = G(sc + Sc64.R11);
        regs["r12"] = G(sc + Sc64.R12); regs["r13"] = G(sc + Sc64.R13); regs["r14"] = G(sc + Sc64.R14); regs["r15"] = G(sc + Sc64.R15);
        regs.Di = G(sc + Sc64.Di); regs.Si = G(sc + Sc64.Si); regs.Bp = G(sc + Sc64.Bp); regs.Bx = G(sc + Sc64.Bx);
        regs.Dx = G(sc + Sc64.Dx); regs.Ax = G(sc + Sc64.Ax); regs.Cx = G(sc + Sc64.Cx); regs.Sp = G(sc + Sc64.Sp);
        regs.Ip = G(sc + Sc64.Ip);
        regs.Cs = (ulong)(BitConverter.ToUInt16(f, sc + Sc64.Cs) | 3);
        if (Model.SigcontextSs)
        {
            regs.Ss = (ulong)(BitConverter.ToUInt16(f, sc + Sc64.Ss) | 3);
            ulong ucFlags = G(RtFrame64.UcFlags);
            if ((ucFlags & UcStrictRestoreSs) == 0 && regs.Cs == Selectors.X64.UserCs) ForceValidSs(regs);
        }
        regs.Flags = (regs.Flags & ~FixEflags) | (G(sc + Sc64.Flags) & FixEflags);
        regs.OrigAx = unchecked((ulong)-1L);                // never restart the interrupted call again
        // restore_sigcontext ends with fpu__restore_sig(sc->fpstate); its failure is a bad frame.
        if (!RestoreFpuFrame(G(sc + Sc64.Fpstate), ia32: false)) { RestartBlock = null; return BadFrame(regs); }
        RestoreAltStack(Syscalls.Handlers.SignalStack.Decode(f.AsSpan(RtFrame64.UcStack), 64), regs.Sp);
        RestartBlock = null;                                // restart_block.fn = do_no_restart_syscall
        ForceIret();
        return (long)regs.Ax;
    }

    /// <summary>
    /// sys_sigreturn / sys_rt_sigreturn for an i386 frame. CS and SS come from the frame with RPL 3; the IRET that
    /// follows judges them. The data segments follow the kernel's bitness: a 32-bit kernel stores them in pt_regs
    /// as they are (COPY_SEG) and its exit's `pop %ds` etc. replace one the CPU refuses with 0; a 64-bit kernel
    /// reloads each live register that differs from (saved | 3) (RELOAD_SEG / reload_segments), and a refused
    /// selector loads null through loadsegment()'s fixup.
    /// </summary>
    private long Sigreturn32(bool rt, PtRegs regs)
    {
        ulong frame = (uint)regs.Sp - (rt ? 4UL : 8UL);
        int size = rt ? RtFrame32.Size : Frame32.Size;
        var f = new byte[size];
        if (!UserMemory.TryRead(frame, f)) return BadFrame(regs);
        int sc = rt ? RtFrame32.UcMcontext : Frame32.Sc;
        ulong G(int at) => BitConverter.ToUInt32(f, at);
        ulong mask = rt ? BitConverter.ToUInt64(f, RtFrame32.UcSigmask) : G(sc + Sc32.Oldmask) | (G(Frame32.Extramask) << 32);
        SignalState.Blocked = mask & ~SignalState.Unblockable;
        RecalcSigPending();
        ushort Seg(int at) => BitConverter.ToUInt16(f, sc + at);
        if (KernelBits == 32)
        {
            regs["gs"] = Seg(Sc32.Gs); regs["fs"] = Seg(Sc32.Fs); regs["es"] = Seg(Sc32.Es); regs["ds"] = Seg(Sc32.Ds);
        }
        else
        {
            ReloadSegment(SegReg.GS, (ushort)(Seg(Sc32.Gs) | 3));
            ReloadSegment(SegReg.FS, (ushort)(Seg(Sc32.Fs) | 3));
            ReloadSegment(SegReg.DS, (ushort)(Seg(Sc32.Ds) | 3));
            ReloadSegment(SegReg.ES, (ushort)(Seg(Sc32.Es) | 3));
        }
        regs.Di = G(sc + Sc32.Di); regs.Si = G(sc + Sc32.Si); regs.Bp = G(sc + Sc32.Bp); regs.Sp = G(sc + Sc32.Sp);
        regs.Bx = G(sc + Sc32.Bx); regs.Dx = G(sc + Sc32.Dx); regs.Cx = G(sc + Sc32.Cx); regs.Ax = G(sc + Sc32.Ax);
        regs.Ip = G(sc + Sc32.Ip);
        regs.Cs = (ulong)(Seg(Sc32.Cs) | 3);
        regs.Ss = (ulong)(Seg(Sc32.Ss) | 3);
        regs.Flags = (regs.Flags & ~FixEflags) | (G(sc + Sc32.Flags) & FixEflags);
        regs.OrigAx = unchecked((ulong)-1L);                // never restart the interrupted call again
        if (!RestoreFpuFrame(G(sc + Sc32.Fpstate), ia32: true)) { RestartBlock = null; return BadFrame(regs); }
        if (rt) RestoreAltStack(Syscalls.Handlers.SignalStack.Decode(f.AsSpan(RtFrame32.UcStack), 32), (uint)regs.Sp);
        RestartBlock = null;                                // restart_block.fn = do_no_restart_syscall
        ForceIret();
        // "return regs->ax": on a 64-bit kernel the restored register, zero-extended from the 32-bit sigcontext (a 64-bit
        // tracer sees 0x00000000fffffffc, not -4); a 32-bit kernel's ax is 32 bits anyway.
        return KernelBits == 64 ? (long)regs.Ax : (int)regs.Ax;
    }

    /// <summary>RELOAD_SEG: load only when the register differs; GS through load_gs_index so the kernel's GS base survives.</summary>
    private void ReloadSegment(SegReg reg, ushort sel)
    {
        if (Cpu.GetSegment(reg).Selector == sel) return;
        bool loaded = reg == SegReg.GS ? Cpu.LoadGsIndex(sel) : Cpu.LoadDataSegmentOrNull(reg, sel);
        if (!loaded) Current.CFunctions.Add($"loadsegment({reg.ToString().ToLowerInvariant()}, 0x{sel:x}) fixup: null");
    }

    private long BadFrame(PtRegs regs)
    {
        // signal_fault(): the frame could not be read; the task gets SIGSEGV.
        ForceSignal(Signal.SIGSEGV);
        return SignedAx(regs);
    }
}
