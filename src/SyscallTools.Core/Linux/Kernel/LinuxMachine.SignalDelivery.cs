using SyscallTools.Core.Cpu;
using SyscallTools.Core.Linux.Syscalls;
using static SyscallTools.Core.Linux.SignalFrames;

namespace SyscallTools.Core.Linux;

/// <summary>
/// Handler delivery (arch/x86/kernel/signal.c, signal_32.c, signal_64.c): the frame on the user stack, the registers
/// for the handler, and sigreturn / rt_sigreturn putting everything back.
/// </summary>
public sealed partial class LinuxMachine
{
    /// <summary>FIX_EFLAGS: the flags sigreturn may restore (CF PF AF ZF SF TF DF OF AC RF).</summary>
    public const ulong FixEflags = RFlags.CF | RFlags.PF | RFlags.AF | RFlags.ZF | RFlags.SF | RFlags.TF | RFlags.DF
                                   | RFlags.OF | RFlags.AC | RFlags.RF;

    /// <summary>The trap that raised the signal now being generated (trapno, error code, CR2), if any.</summary>
    private (int Trapno, ulong Err, ulong Cr2, int? SiCode, ulong? Addr)? _pendingTrap;
    /// <summary>The signal the pending trap raised: its details travel with that signal and no other.</summary>
    private int _pendingTrapSig;
    /// <summary>The trap details of the signal being delivered now (taken from <see cref="_pendingTrap"/> when it is dequeued).</summary>
    private (int Trapno, ulong Err, ulong Cr2, int? SiCode, ulong? Addr)? _deliveringTrap;

    /// <summary>Records what a trap tells its signal (trapno, error code, CR2, si_code, address) and forces the signal.</summary>
    private void ForceTrapSignal(int sig, (int Trapno, ulong Err, ulong Cr2, int? SiCode, ulong? Addr) trap)
    {
        _pendingTrap = trap;
        _pendingTrapSig = sig;
        ForceSignal(sig);
    }

    /// <summary>Where the last handler frame was built, for tests and traces.</summary>
    public ulong LastSignalFrame { get; private set; }

    /// <summary>handle_signal(): restart fixups for a handler, the frame, the handler's registers, the new mask.</summary>
    private void HandleSignal(int sig, SignalAction act, PtRegs regs)
    {
        // A syscall interrupted by a handler: -EINTR, or restart when SA_RESTART (or -ERESTARTNOINTR) asks for it.
        if (InSyscall(regs))
        {
            long ax = SignedAx(regs);
            switch (-ax)
            {
                case Errno.ERESTART_RESTARTBLOCK or Errno.ERESTARTNOHAND:
                    regs.Ax = unchecked((ulong)(long)-Errno.EINTR);
                    break;
                case Errno.ERESTARTSYS:
                    if ((act.Flags & SignalAction.SaRestart) == 0) { regs.Ax = unchecked((ulong)(long)-Errno.EINTR); break; }
                    goto case Errno.ERESTARTNOINTR;
                case Errno.ERESTARTNOINTR:
                    regs.Ax = regs.OrigAx;
                    regs.Ip -= 2;
                    break;
            }
        }
        bool ok = Task.Bitness == 32 ? SetupFrame32(sig, act, regs) : SetupFrame64(sig, act, regs);
        if (!ok)
        {
            // signal_setup_done(failed): force_sigsegv.
            Current.Signal = Signal.SIGSEGV;
            Task.Kill(Signal.SIGSEGV);
            Current.KilledWith = RegisterSnapshot.FromPtRegs(regs, Cpu);
            Cpu.RequestStop($"task killed by SIGSEGV: the frame for {Signal.Name(sig)} could not be written");
            return;
        }
        ForceIret();
        // The handler runs with DF, RF and TF clear (TF unless a debugger set it).
        regs.Flags &= ~(RFlags.DF | RFlags.RF | ((Task.Flags & ThreadFlags.SingleStep) != 0 ? 0 : RFlags.TF));
        SignalState.Blocked |= act.Mask | ((act.Flags & SignalAction.SaNodefer) != 0 ? 0 : SignalState.Bit(sig));
        SignalState.Blocked &= ~SignalState.Unblockable;
        if ((act.Flags & SignalAction.SaResethand) != 0) SignalState.Actions[sig] = SignalAction.Default;
        // signal_delivered() (6.x): a stack armed with SS_AUTODISARM is disarmed while the handler runs on it.
        if (Model.SsAutodisarm && (SignalState.AltStack.Flags & AltStack.SsAutodisarm) != 0) SignalState.AltStack = AltStack.None;
        RecalcSigPending();
        _deliveringTrap = null;
    }

    private bool InSyscall(PtRegs regs) => KernelBits == 64 && Task.Bitness == 64 ? (long)regs.OrigAx >= 0 : (int)regs.OrigAx >= 0;
    private long SignedAx(PtRegs regs) => KernelBits == 64 && Task.Bitness == 64 ? (long)regs.Ax : (int)regs.Ax;

    /// <summary>The siginfo_t (of the task's bitness) the signal now being delivered carries: what PTRACE_GETSIGINFO reads.</summary>
    internal byte[] SigInfoForTracer(int sig) => SigInfo(sig);

    private byte[] SigInfo(int sig)
    {
        var info = new byte[128];
        int fields = SiFields(Task.Bitness);
        void Addr(ulong a)
        {
            if (Task.Bitness == 32) BitConverter.TryWriteBytes(info.AsSpan(fields + SiAddr), (uint)a);
            else BitConverter.TryWriteBytes(info.AsSpan(fields + SiAddr), a);
        }
        BitConverter.TryWriteBytes(info.AsSpan(SiSigno), sig);
        if (_deliveringTrap is { } t)
        {
            // force_sig() without details (do_trap for #GP, #UD, int3...): SI_KERNEL.
            BitConverter.TryWriteBytes(info.AsSpan(SiCode), t.SiCode ?? SiKernel);
            if (sig is Signal.SIGSEGV or Signal.SIGBUS && t.Trapno == Vector.PF)
            {
                // A present page refused the access (PF error code bit 0): SEGV_ACCERR; nothing mapped: SEGV_MAPERR.
                BitConverter.TryWriteBytes(info.AsSpan(SiCode), (t.Err & 1) != 0 ? SegvAccerr : SegvMaperr);
                Addr(t.Cr2);
            }
            if (t.Addr is ulong at) Addr(at);
        }
        else
        {
            BitConverter.TryWriteBytes(info.AsSpan(SiCode), SiUser);
            BitConverter.TryWriteBytes(info.AsSpan(fields + SiPid), Task.Pid);
            BitConverter.TryWriteBytes(info.AsSpan(fields + SiUid), Task.Uid);
        }
        return info;
    }

    /// <summary>
    /// ia32_setup_frame / ia32_setup_rt_frame (64-bit kernel) and __setup_frame / __setup_rt_frame (32-bit kernel).
    /// The data segments saved are the user's: pt_regs slots on a 32-bit kernel, the live registers on a 64-bit one
    /// (its entries never touch DS/ES/FS/GS); the handler then runs with DS = ES = __USER_DS.
    /// </summary>
    private bool SetupFrame32(int sig, SignalAction act, PtRegs regs)
    {
        bool rt = (act.Flags & SignalAction.SaSiginfo) != 0;
        int size = rt ? RtFrame32.Size : Frame32.Size;
        ulong regsSp = (uint)regs.Sp;
        if (GetSigframe(act, regsSp, size, ia32: true) is not (ulong frame, ulong fpstate)) return false;
        var f = new byte[size];
        int sc = rt ? RtFrame32.UcMcontext : Frame32.Sc;
        void P32(int at, ulong v) => BitConverter.TryWriteBytes(f.AsSpan(at), (uint)v);
        var (gs, fs, es, ds) = UserDataSegments(regs);
        P32(sc + Sc32.Gs, gs); P32(sc + Sc32.Fs, fs); P32(sc + Sc32.Es, es); P32(sc + Sc32.Ds, ds);
        P32(sc + Sc32.Di, regs.Di); P32(sc + Sc32.Si, regs.Si); P32(sc + Sc32.Bp, regs.Bp); P32(sc + Sc32.Sp, regs.Sp);
        P32(sc + Sc32.Bx, regs.Bx); P32(sc + Sc32.Dx, regs.Dx); P32(sc + Sc32.Cx, regs.Cx); P32(sc + Sc32.Ax, regs.Ax);
        P32(sc + Sc32.Ip, regs.Ip); P32(sc + Sc32.Cs, regs.Cs); P32(sc + Sc32.Flags, regs.Flags);
        P32(sc + Sc32.SpAtSignal, regs.Sp); P32(sc + Sc32.Ss, regs.Ss);
        P32(sc + Sc32.Fpstate, fpstate);
        ushort userDs = KernelBits == 64 ? Selectors.X64.User32Ds : Selectors.X86.UserDs;
        if (_deliveringTrap is { } t) { P32(sc + Sc32.Trapno, (ulong)t.Trapno); P32(sc + Sc32.Err, t.Err); P32(sc + Sc32.Cr2, t.Cr2); }
        P32(sc + Sc32.Oldmask, SignalState.Blocked);
        ulong restorer = (act.Flags & SignalAction.SaRestorer) != 0 ? act.Restorer
            : Task.VdsoBase != 0 && Vdso is not null ? Task.VdsoBase + (ulong)Vdso.Symbols[rt ? "__kernel_rt_sigreturn" : "__kernel_sigreturn"]
            : frame + (ulong)(rt ? RtFrame32.Retcode : Frame32.Retcode);
        P32(rt ? RtFrame32.Pretcode : Frame32.Pretcode, restorer);
        P32(rt ? RtFrame32.Sig : Frame32.Sig, (ulong)sig);
        if (rt)
        {
            P32(RtFrame32.Pinfo, frame + RtFrame32.Info);
            P32(RtFrame32.Puc, frame + RtFrame32.Uc);
            SigInfo(sig).CopyTo(f, RtFrame32.Info);
            Syscalls.Handlers.SignalStack.Encode(FrameUcStack(regsSp), 32).CopyTo(f, RtFrame32.UcStack);
            BitConverter.TryWriteBytes(f.AsSpan(RtFrame32.UcSigmask), SignalState.Blocked);
            byte[] code = [0xB8, .. BitConverter.GetBytes(Syscalls.Handlers.SignalsReturn.NrRtSigreturn32), 0xCD, 0x80, 0x00];
            code.CopyTo(f, RtFrame32.Retcode);
        }
        else
        {
            P32(Frame32.Extramask, SignalState.Blocked >> 32);
            byte[] code = [0x58, 0xB8, .. BitConverter.GetBytes(Syscalls.Handlers.SignalsReturn.NrSigreturn32), 0xCD, 0x80];
            code.CopyTo(f, Frame32.Retcode);
        }
        if (!UserMemory.TryWrite(frame, f)) return false;
        LastSignalFrame = frame;
        regs.Sp = frame;
        regs.Ip = act.Handler;
        regs.Ax = (ulong)sig;
        regs.Dx = rt ? frame + RtFrame32.Info : 0;
        regs.Cx = rt ? frame + RtFrame32.Uc : 0;
        if (KernelBits == 64)
        {
            // loadsegment(ds, __USER32_DS); loadsegment(es, __USER32_DS): straight into the live registers.
            Cpu.LoadDataSegmentOrNull(SegReg.DS, userDs);
            Cpu.LoadDataSegmentOrNull(SegReg.ES, userDs);
        }
        else
        {
            regs["ds"] = userDs;
            regs["es"] = userDs;
        }
        regs.Cs = KernelBits == 64 ? Selectors.X64.User32Cs : Selectors.X86.UserCs;
        regs.Ss = userDs;
        return true;
    }

    /// <summary>
    /// get_sigframe, for both frame kinds: the stack (the alternate one if the action asks and the task is not on it;
    /// below the 128-byte red zone for a 64-bit frame), the FPU state below it (fpu__alloc_mathframe, saved now), then
    /// the frame, aligned as each ABI wants a function entry to see its stack — ((sp + 4) &amp; 15) == 0 for i386,
    /// ((sp + 8) &amp; 15) == 0 for x86-64. Null when the frame would overflow the alternate stack ("If we are on the
    /// alternate signal stack and would overflow it, don't": an always-bogus frame, SIGSEGV) or the FPU state cannot be
    /// written. "On" it is on_sig_stack(regs->sp), before the red zone; 5.14+ also refuses a frame that does not fit the
    /// stack it is entering, and tests the frame with __on_sig_stack.
    /// </summary>
    private (ulong Frame, ulong Fpstate)? GetSigframe(SignalAction act, ulong regsSp, int size, bool ia32)
    {
        bool nested = OnSigStack(regsSp);
        ulong sp = SigFrameStack(act, regsSp, ia32 ? regsSp : regsSp - 128, out bool entering);
        var (bufFx, fpstate) = AllocMathFrame(sp, ia32);
        ulong frame = ia32 ? (((fpstate - (ulong)size) + 4) & ~15UL) - 4 : ((fpstate - (ulong)size) & ~15UL) - 8;
        if (Model.AltstackEntryOverflowCheck
                ? (nested || entering) && !WithinSigStack(frame)
                : nested && !OnSigStack(frame))
            return null;
        if (!SaveFpuFrame(bufFx, fpstate, ia32)) return null;
        return (frame, fpstate);
    }

    /// <summary>The user's GS, FS, ES and DS selectors as a signal frame saves them (savesegment / pt_regs).</summary>
    private (ulong Gs, ulong Fs, ulong Es, ulong Ds) UserDataSegments(PtRegs regs) => KernelBits == 32
        ? (regs["gs"] & 0xFFFF, regs["fs"] & 0xFFFF, regs["es"] & 0xFFFF, regs["ds"] & 0xFFFF)
        : (Cpu.GetSegment(SegReg.GS).Selector, Cpu.GetSegment(SegReg.FS).Selector,
           Cpu.GetSegment(SegReg.ES).Selector, Cpu.GetSegment(SegReg.DS).Selector);

    /// <summary>
    /// __setup_rt_frame (64-bit): below the 128-byte red zone, or on the alternate stack. What it does with SS depends
    /// on the version (<see cref="Models.KernelModel.SigcontextSs"/>): 4.6+ saves it, flags the frame and keeps a valid
    /// old SS for the handler; before, the sigcontext slot was __pad0 (never written) and SS was left as it was.
    /// </summary>
    private bool SetupFrame64(int sig, SignalAction act, PtRegs regs)
    {
        // x86-64 has no vDSO restorer: a handler without SA_RESTORER cannot return, and the kernel refuses it.
        if ((act.Flags & SignalAction.SaRestorer) == 0) return false;
        ulong regsSp = regs.Sp;
        if (GetSigframe(act, regsSp, RtFrame64.Size, ia32: false) is not (ulong frame, ulong fpstate)) return false;
        var f = new byte[RtFrame64.Size];
        void P64(int at, ulong v) => BitConverter.TryWriteBytes(f.AsSpan(at), v);
        void P16(int at, ulong v) => BitConverter.TryWriteBytes(f.AsSpan(at), (ushort)v);
        int sc = RtFrame64.UcMcontext;
        P64(sc + Sc64.R8, regs.R8); P64(sc + Sc64.R9, regs.R9); P64(sc + Sc64.R10, regs.R10); P64(sc + Sc64.R11, regs.R11);
        P64(sc + Sc64.R12, regs["r12"]); P64(sc + Sc64.R13, regs["r13"]); P64(sc + Sc64.R14, regs["r14"]); P64(sc + Sc64.R15, regs["r15"]);
        P64(sc + Sc64.Di, regs.Di); P64(sc + Sc64.Si, regs.Si); P64(sc + Sc64.Bp, regs.Bp); P64(sc + Sc64.Bx, regs.Bx);
        P64(sc + Sc64.Dx, regs.Dx); P64(sc + Sc64.Ax, regs.Ax); P64(sc + Sc64.Cx, regs.Cx); P64(sc + Sc64.Sp, regs.Sp);
        P64(sc + Sc64.Ip, regs.Ip); P64(sc + Sc64.Flags, regs.Flags); P16(sc + Sc64.Cs, regs.Cs);
        P64(sc + Sc64.Fpstate, fpstate);
        // sc->gs and sc->fs are written as 0 in every version.
        P16(sc + Sc64.Gs, 0); P16(sc + Sc64.Fs, 0);
        bool user64 = regs.Cs == Selectors.X64.UserCs;        // user_64bit_mode(regs)
        if (Model.SigcontextSs)
        {
            P16(sc + Sc64.Ss, regs.Ss);
            P64(RtFrame64.UcFlags, UcSigcontextSs | (user64 ? UcStrictRestoreSs : 0));
        }
        else
        {
            // __pad0 is not written: whatever the stack held there stays. uc_flags is 0 (UC_FP_XSTATE aside).
            Span<byte> pad = stackalloc byte[2];
            if (UserMemory.TryRead(frame + (ulong)(sc + Sc64.Ss), pad)) pad.CopyTo(f.AsSpan(sc + Sc64.Ss));
            P64(RtFrame64.UcFlags, 0);
        }
        if (_deliveringTrap is { } t) { P64(sc + Sc64.Trapno, (ulong)t.Trapno); P64(sc + Sc64.Err, t.Err); P64(sc + Sc64.Cr2, t.Cr2); }
        P64(sc + Sc64.Oldmask, SignalState.Blocked);
        Syscalls.Handlers.SignalStack.Encode(FrameUcStack(regsSp), 64).CopyTo(f, RtFrame64.UcStack);
        P64(RtFrame64.UcSigmask, SignalState.Blocked);
        SigInfo(sig).CopyTo(f, RtFrame64.Info);
        P64(RtFrame64.Pretcode, act.Restorer);
        if (!UserMemory.TryWrite(frame, f)) return false;
        LastSignalFrame = frame;
        regs.Sp = frame;
        regs.Ip = act.Handler;
        regs.Di = (ulong)sig;
        regs.Si = frame + RtFrame64.Info;
        regs.Dx = frame + RtFrame64.Uc;
        regs.Ax = 0;
        // "Set up the CS and SS registers to run signal handlers in 64-bit mode, even if the handler happens to be
        // interrupting 32-bit or 16-bit code." 4.6+: "if the old SS was valid, we keep it. Otherwise we replace it."
        regs.Cs = Selectors.X64.UserCs;
        if (Model.SigcontextSs && regs.Ss != Selectors.X64.UserDs) ForceValidSs(regs);
        return true;
    }

    /// <summary>
    /// force_valid_ss(): if IRET would refuse regs->ss for 64-bit user code, use __USER_DS. Valid means what LAR
    /// reports as a present DPL-3 read/write data segment (expand-up or expand-down); LAR failing counts as invalid.
    /// </summary>
    private void ForceValidSs(PtRegs regs)
    {
        const uint ArTypeMask = 7u << 9, ArTypeRwData = 1u << 9, ArTypeRwDataExpdown = 3u << 9;
        const uint ArDplMask = 3u << 13, ArDpl3 = 3u << 13, ArS = 1u << 12, ArP = 1u << 15;
        uint ar = Cpu.LoadAccessRights((ushort)regs.Ss, out uint a) ? a : 0;
        ar &= ArDplMask | ArS | ArP | ArTypeMask;
        if (ar != (ArDpl3 | ArS | ArP | ArTypeRwData) && ar != (ArDpl3 | ArS | ArP | ArTypeRwDataExpdown))
            regs.Ss = Selectors.X64.UserDs;
    }
}
